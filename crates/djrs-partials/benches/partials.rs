//! `cargo xtask bench partials`: what a partial costs against the same markup as a plain
//! Tera template.
//!
//! - `partials.plain_render_ns`: `Tera::render("card.html")`, the card as its own template, in
//!   the same Tera instance;
//! - `partials.partial_render_ns`: `Templates::render("page.html#card")`, the same card as a
//!   partial of a page (the read lock, then Tera's render of the template `"page.html#card"`);
//! - `partials.load_200_ms`: loading 200 templates of 3 partials each (preprocessing plus
//!   Tera's parsing) in one call.
//!
//! The two renders take turns in short rounds (so that other work on the machine disturbs both
//! alike) and the median round is reported. The ratio is printed for information; the issue's
//! target is at most 1.05.

use std::hint::black_box;
use std::time::Instant;

use djrs_partials::Templates;

const CARD: &str = r#"<article class="card" id="article-{{ article.id }}">
  <h2><a href="/articles/{{ article.id }}">{{ article.title }}</a></h2>
  <p class="meta">by {{ article.author }} · {{ article.words }} words</p>
  {% if article.tags %}<ul class="tags">{% for tag in article.tags %}<li>{{ tag }}</li>{% endfor %}</ul>{% endif %}
  <p>{{ article.summary }}</p>
</article>"#;

const ROUNDS: usize = 101;
const ITERATIONS: usize = 2_000;

fn page(card: &str) -> String {
    format!(
        "<html><body>{{% partialdef card %}}{card}{{% endpartialdef %}}\
         <main>{{% for article in articles %}}{{% partial card %}}{{% endfor %}}</main></body></html>"
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut templates = Templates::new().set_auto_reload(false);
    templates
        .add_raw_templates([("card.html", CARD.to_owned()), ("page.html", page(CARD))])
        .expect("templates load");
    let ctx = tera::Context::from_serialize(&serde_json::json!({
        "article": {
            "id": 42, "title": "Partials & htmx", "author": "Ann", "words": 1200,
            "tags": ["tera", "django", "htmx"],
            "summary": "Render one fragment of a page in the page's own context.",
        }
    }))
    .expect("context");

    let plain = templates
        .with_tera(|t| t.render("card.html", &ctx))
        .expect("plain");
    let partial = templates.render("page.html#card", &ctx).expect("partial");
    assert_eq!(plain, partial, "both render the same markup");

    let (mut plain_ns, mut partial_ns) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let start = Instant::now();
        templates.with_tera(|t| {
            for _ in 0..ITERATIONS {
                black_box(t.render(black_box("card.html"), &ctx).expect("plain"));
            }
        });
        plain_ns.push(start.elapsed().as_nanos() as f64 / ITERATIONS as f64);
        let start = Instant::now();
        for _ in 0..ITERATIONS {
            black_box(
                templates
                    .render(black_box("page.html#card"), &ctx)
                    .expect("partial"),
            );
        }
        partial_ns.push(start.elapsed().as_nanos() as f64 / ITERATIONS as f64);
    }
    let (plain, partial) = (median(plain_ns), median(partial_ns));
    println!("BENCH partials.plain_render_ns {plain:.0} ns");
    println!("BENCH partials.partial_render_ns {partial:.0} ns");
    println!("# ratio partial/plain: {:.3}", partial / plain);

    let sources: Vec<(String, String)> = (0..200)
        .map(|i| {
            let src = format!(
                "{{% partialdef card %}}{CARD}{{% endpartialdef %}}\
                 {{% partialdef row inline %}}<tr><td>{{{{ loop.index }}}}</td><td>{{{{ article.title }}}}</td></tr>{{% endpartialdef %}}\
                 {{% partialdef empty %}}<p>No articles in section {i}.</p>{{% endpartialdef %}}\
                 <main>{{% for article in articles %}}{{% partial card %}}{{% else %}}{{% partial empty %}}{{% endfor %}}</main>"
            );
            (format!("section{i}.html"), src)
        })
        .collect();
    let mut loads = Vec::new();
    for _ in 0..11 {
        let start = Instant::now();
        let mut t = Templates::new().set_auto_reload(false);
        t.add_raw_templates(sources.iter().map(|(n, s)| (n.as_str(), s.as_str())))
            .expect("200 templates load");
        loads.push(start.elapsed().as_secs_f64() * 1e3);
        black_box(t);
    }
    println!("BENCH partials.load_200_ms {:.2} ms", median(loads));
}
