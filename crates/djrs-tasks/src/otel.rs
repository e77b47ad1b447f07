//! OpenTelemetry trace context from enqueue to the worker (feature `otel`): an enqueue inside
//! a span that has an OpenTelemetry context stores its W3C `traceparent` (and `tracestate`) in
//! the task's metadata under the reserved keys `_traceparent` and `_tracestate`; the attempt's
//! `task` span takes that context as its parent, so the work shows in the enqueuing trace
//! whichever process or machine ran it.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator as _};
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use serde_json::{Map, Value};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The W3C headers and the metadata keys that hold them.
const KEYS: [(&str, &str); 2] = [
    ("traceparent", "_traceparent"),
    ("tracestate", "_tracestate"),
];

fn reserved(header: &str) -> Option<&'static str> {
    KEYS.iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(header))
        .map(|(_, key)| *key)
}

/// Writes the propagator's headers into metadata, under their reserved keys.
struct Writer<'a>(&'a mut Map<String, Value>);

impl Injector for Writer<'_> {
    fn set(&mut self, header: &str, value: String) {
        if let Some(key) = reserved(header)
            && !value.is_empty()
        {
            self.0.insert(key.to_owned(), Value::String(value));
        }
    }
}

/// Reads the headers back from a task's metadata.
struct Reader<'a>(&'a Map<String, Value>);

impl Extractor for Reader<'_> {
    fn get(&self, header: &str) -> Option<&str> {
        self.0.get(reserved(header)?)?.as_str()
    }

    fn keys(&self) -> Vec<&str> {
        KEYS.iter()
            .filter(|(_, key)| self.0.contains_key(*key))
            .map(|(name, _)| *name)
            .collect()
    }
}

/// The metadata a task enqueued now starts with: the current span's trace context, when it
/// has a valid one; empty otherwise.
pub(crate) fn current_trace_metadata() -> Map<String, Value> {
    let mut metadata = Map::new();
    let context = tracing::Span::current().context();
    if context.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&context, &mut Writer(&mut metadata));
    }
    metadata
}

/// Makes `span` (an attempt's, not entered yet) continue the trace stored in `metadata`, if
/// any. Without an OpenTelemetry layer there is nothing to continue, and nothing is done.
pub(crate) fn continue_trace(span: &tracing::Span, metadata: &Map<String, Value>) {
    if !metadata.contains_key(KEYS[0].1) {
        return;
    }
    let context = TraceContextPropagator::new().extract(&Reader(metadata));
    if context.span().span_context().is_valid()
        && let Err(err) = span.set_parent(context)
    {
        tracing::trace!(target: "djrs_tasks", error = %err, "the attempt's span cannot continue the enqueuing trace");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_headers_round_trip_through_reserved_metadata_keys() {
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let mut metadata = Map::new();
        let mut writer = Writer(&mut metadata);
        writer.set("traceparent", traceparent.to_owned());
        writer.set("tracestate", String::new()); // empty: not stored
        writer.set("baggage", "k=v".to_owned()); // not ours: not stored
        assert_eq!(metadata.len(), 1);
        assert_eq!(metadata["_traceparent"], traceparent);

        let context = TraceContextPropagator::new().extract(&Reader(&metadata));
        let span = context.span();
        let extracted = span.span_context();
        assert!(extracted.is_valid() && extracted.is_remote());
        assert_eq!(
            extracted.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(extracted.span_id().to_string(), "00f067aa0ba902b7");
        assert_eq!(Reader(&metadata).keys(), ["traceparent"]);
        // Outside any span with a context: nothing to store.
        assert!(current_trace_metadata().is_empty());
    }
}
