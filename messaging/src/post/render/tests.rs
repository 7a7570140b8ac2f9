//! The renderer against hostile input: every tag and attribute it emits must be on a short list,
//! and every link target http, https or mailto.

use super::*;

/// Tags the renderer may emit, and the attributes each may carry.
fn allowed_attribute(tag: &str, name: &str) -> bool {
    match tag {
        "a" => matches!(name, "href" | "rel" | "title" | "target"),
        "img" => matches!(name, "src" | "width" | "height" | "alt" | "loading"),
        "input" => matches!(name, "type" | "disabled" | "checked"),
        "ol" => name == "start",
        "div" => name == "class",
        "code" => name == "class",
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => name == "id",
        _ => false,
    }
}
const TAGS: &[&str] = &[
    "p",
    "em",
    "strong",
    "a",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "br",
    "del",
    "input",
    "img",
    "div",
];

/// Every tag in `html` with its attributes. Text is escaped, so each `<` starts a tag.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("every tag closes") + start;
        let inside = rest[start + 1..end].trim_end_matches('/').trim();
        rest = &rest[end + 1..];
        if inside.starts_with('/') {
            continue;
        }
        let (name, mut attrs_src) = inside.split_once(' ').unwrap_or((inside, ""));
        let mut attrs = Vec::new();
        while !attrs_src.trim().is_empty() {
            attrs_src = attrs_src.trim_start();
            let (attr, after) = match attrs_src.find(['=', ' ']) {
                Some(i) if attrs_src.as_bytes()[i] == b'=' => {
                    let after = &attrs_src[i + 1..];
                    assert!(after.starts_with('"'), "unquoted attribute in {html}");
                    let close = after[1..].find('"').expect("quoted value closes") + 1;
                    attrs.push((attrs_src[..i].to_owned(), after[1..close].to_owned()));
                    (None, &after[close + 1..])
                }
                Some(i) => (Some(&attrs_src[..i]), &attrs_src[i..]),
                None => (Some(attrs_src), ""),
            };
            if let Some(a) = attr {
                attrs.push((a.to_owned(), String::new()));
            }
            attrs_src = after;
        }
        out.push((name.to_ascii_lowercase(), attrs));
    }
    out
}

fn assert_safe(markdown: &str) -> String {
    let html = render_body(markdown);
    for (tag, attrs) in tags(&html) {
        assert!(TAGS.contains(&tag.as_str()), "tag <{tag}> from {markdown:?}: {html}");
        assert!(tag != "img", "a Markdown image became <img>: {html}");
        for (name, value) in attrs {
            assert!(allowed_attribute(&tag, &name), "attribute {name} on <{tag}> from {markdown:?}: {html}");
            if name == "href" {
                let decoded = value.replace("&amp;", "&");
                assert!(is_allowed_link(&decoded), "href {value:?} from {markdown:?}");
            }
        }
    }
    html
}

/// From the OWASP XSS filter evasion cheat sheet, as Markdown and raw HTML.
const HOSTILE: &[&str] = &[
    "<script>alert('XSS')</script>",
    "<SCRIPT SRC=https://xss.rocks/xss.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
    "<IMG SRC=/ onerror=\"alert(String.fromCharCode(88,83,83))\"></img>",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<SCRIPT/XSS SRC=\"http://xss.rocks/xss.js\"></SCRIPT>",
    "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
    "<<SCRIPT>alert(\"XSS\");//\\<</SCRIPT>",
    "<iframe src=http://xss.rocks/scriptlet.html <",
    "</TITLE><SCRIPT>alert(\"XSS\");</SCRIPT>",
    "<INPUT TYPE=\"IMAGE\" SRC=\"javascript:alert('XSS');\">",
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<svg/onload=alert('XSS')>",
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<LINK REL=\"stylesheet\" HREF=\"javascript:alert('XSS');\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    "<OBJECT TYPE=\"text/x-scriptlet\" DATA=\"http://xss.rocks/scriptlet.html\"></OBJECT>",
    "<EMBED SRC=\"data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv MjAwMC9zdmciIHhtbG5zOnhsaW5rPSJodHRwOi8vd3d3LnczLm9yZy8xOTk5L3hs aW5rIiB2ZXJzaW9uPSIxLjAiIHg9IjAiIHk9IjAiIHdpZHRoPSIxOTQiIGhlaWdodD0iMjAwIiBpZD0ieHNzIj48c2NyaXB0IHR5cGU9InRleHQvZWNtYXNjcmlwdCI+YWxlcnQoIlhTUyIpOzwvc2NyaXB0Pjwvc3ZnPg==\" AllowScriptAccess=\"always\"></EMBED>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](&#106;avascript:alert(1))",
    "[x](java\\script:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "![x](javascript:alert(1))",
    "![x\" onerror=\"alert(1)](https://evil.example/a.png)",
    "[x](https://ok.example/\" onmouseover=\"alert(1))",
    "[x](https://ok.example/ \"title\\\" onmouseover=\\\"alert(1)\")",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "<details open ontoggle=alert(1)>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>",
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    "<!-- --><script>alert(1)</script>",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<?xml version=\"1.0\"?><script>alert(1)</script>",
    "- [x] <b onmouseover=alert(1)>task</b>",
];

#[test]
fn hostile_markdown_renders_only_allowed_tags_attributes_and_links() {
    assert!(HOSTILE.len() >= 30);
    for input in HOSTILE {
        let html = assert_safe(input);
        let lower = html.to_ascii_lowercase();
        assert!(
            !lower.contains("<script") && !lower.contains("<img") && !lower.contains("<svg") && !lower.contains("<iframe"),
            "{input:?}: {html}"
        );
    }
}

#[test]
fn raw_html_is_shown_as_text() {
    assert_eq!(render_body("<b>hi</b>"), "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n");
    assert_eq!(render_body("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
}

#[test]
fn markdown_formats_and_safe_links_keep_rel() {
    assert_eq!(render_body("**bold** and *it*"), "<p><strong>bold</strong> and <em>it</em></p>\n");
    assert_eq!(
        render_body("[Herald](https://herald.example/a?b=1&c=2)"),
        "<p><a href=\"https://herald.example/a?b=1&amp;c=2\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">Herald</a></p>\n"
    );
    assert!(render_body("[mail](mailto:a@b.example)").contains("href=\"mailto:a@b.example\""));
    assert!(render_body("<a@b.example>").contains("href=\"mailto:a@b.example\""));
    assert_eq!(render_body("[x](javascript:alert(1))"), "<p>x</p>\n");
    assert_eq!(render_body("![cat](https://evil.example/cat.png)"), "<p>cat</p>\n");
}

#[test]
fn a_post_shows_only_its_own_uploaded_images() {
    let mine = super::super::tests::image(7);
    let mut foreign = mine.clone();
    foreign.large.url = "https://evil.example/x.png".into();
    let html = render_post("hi", &[mine.clone(), foreign]);
    assert_eq!(html.matches("<img").count(), 1, "{html}");
    assert!(html.contains(&mine.large.url));
    assert!(!html.contains("evil.example"));
}

#[test]
fn plain_text_drops_markup() {
    assert_eq!(plain_text("# Title\n\n**a** [b](https://x.example)"), "Title a b");
}

#[test]
fn a_plain_message_shows_its_text_as_text() {
    use super::super::wire::PlainElement;
    let html =
        render_elements(&[PlainElement::Text("<script>alert(1)</script> **not bold**".into()), PlainElement::Other("TIMFaceElem".into())]);
    assert_eq!(
        html,
        "<p class=\"plain-text\">&lt;script&gt;alert(1)&lt;/script&gt; **not bold**</p><p class=\"element\">[TIMFaceElem]</p>"
    );
}

#[test]
fn a_poll_renders_its_question_and_options_as_text_with_bars_only_for_results() {
    let poll = crate::polls::Poll::from_texts("<b>Lunch</b>?", &["<script>x</script>".into(), "Soup".into()], false, 0);
    let plain = render_poll(&poll, None);
    assert!(plain.contains("&lt;b&gt;Lunch&lt;/b&gt;?") && plain.contains("&lt;script&gt;"), "{plain}");
    assert!(!plain.contains("<meter"), "no counts before there are results");
    let results = crate::polls::PollResults {
        options: vec![(poll.options[0].clone(), 1), (poll.options[1].clone(), 3)],
        voters: 4,
        multiple: false,
        closes_at: 0,
    };
    let counted = render_poll(&poll, Some(&results));
    assert!(counted.contains("<meter min=\"0\" max=\"4\" value=\"3\"></meter> <span class=\"poll-votes\">3 (75%)</span>"), "{counted}");
    assert!(counted.contains("4 voters"));
}
