//! Example plugin: URL slugs from titles.

wit_bindgen::generate!({ world: "slugify", path: "wit" });

struct Slugify;

fn slug(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut dash = false;
    for c in input.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            out.push(c);
            dash = false;
        } else {
            dash = true;
        }
    }
    out
}

/// `slug`, cut to at most `max_len` bytes at a dash where possible.
fn slug_max(input: &str, max_len: u32) -> String {
    let full = slug(input);
    let max = max_len as usize;
    if full.len() <= max {
        return full;
    }
    let mut end = max;
    while !full.is_char_boundary(end) {
        end -= 1;
    }
    let cut = &full[..end];
    if full[end..].starts_with('-') {
        return cut.to_string();
    }
    match cut.rfind('-') {
        Some(i) if i > 0 => cut[..i].to_string(),
        _ => cut.to_string(),
    }
}

impl Guest for Slugify {
    fn slugify(input: String) -> String {
        slug(&input)
    }

    fn slugify_max(input: String, max_len: u32) -> String {
        slug_max(&input, max_len)
    }

    fn slug_post(post: Post) -> Result<Slugged, SlugError> {
        let full = slug(&post.title);
        if full.is_empty() {
            return Err(SlugError {
                title: post.title,
                reason: "the title has no letter or digit".to_string(),
            });
        }
        let slug = match post.max_len {
            Some(max) => slug_max(&post.title, max),
            None => full.clone(),
        };
        Ok(Slugged {
            truncated: slug.len() < full.len(),
            slug,
        })
    }
}

export!(Slugify);
