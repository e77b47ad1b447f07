// The task console's one script of its own, served by the console beside htmx.
//
// The overview and a task's page ask for themselves every two seconds and swap their live
// part in (`#live`). That part holds the queue and task forms, so a swap while the operator is
// using one would take the control from under them: the limit being typed, the keyboard focus,
// a button between press and release. While the operator is at one of those forms the refresh
// waits; it resumes once they leave it.
(function () {
  "use strict";
  var pressing = false;

  function inLiveForm(node) {
    return !!(node && node.closest && node.closest("#live form"));
  }

  function busy() {
    if (pressing || inLiveForm(document.activeElement)) {
      return true;
    }
    var fields = document.querySelectorAll("#live form input:not([type=hidden])");
    for (var i = 0; i < fields.length; i += 1) {
      if (fields[i].value !== fields[i].defaultValue) {
        return true;
      }
    }
    return false;
  }

  document.addEventListener("pointerdown", function (event) {
    pressing = inLiveForm(event.target);
  }, true);
  ["pointerup", "pointercancel"].forEach(function (name) {
    document.addEventListener(name, function () {
      // The click (and the form's submission) follows the release: let it land first.
      setTimeout(function () { pressing = false; }, 0);
    }, true);
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (busy()) {
      event.preventDefault();
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (busy()) {
      event.detail.shouldSwap = false;
    }
  });
})();
