//! Tables in the docs written from committed results, never by hand.
//!
//! A generated section of a Markdown file sits between two marker comments,
//! `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; [`replace_section`] swaps
//! what lies between them, so `cargo xtask docs` can rewrite it and a test can check
//! that the committed text is what the committed results give.

use thiserror::Error;

mod bench;
mod claims;
mod profile;

pub use bench::bench_table;
pub use claims::{
    bias_table, embedding_table, layer_terms_table, likelihood_table, negative_table, run_stamp,
    synthetic_table, training_table, ClaimTables,
};
pub use profile::{profile_table, ProfileBreakdown, ProfileGroup};

/// Why a generated section could not be written.
#[derive(Debug, Error, PartialEq)]
pub enum DocsError {
    /// The file lacks the opening or closing marker of a section.
    #[error("no `<!-- generated:{0} -->` ... `<!-- /generated:{0} -->` markers")]
    MissingMarkers(String),
    /// The results hold no row for the table.
    #[error("the results hold nothing for the `{0}` table")]
    NoResults(String),
}

/// `doc` with the section `name` replaced by `content` (markers kept).
///
/// # Errors
/// [`DocsError::MissingMarkers`] when either marker is missing or out of order.
pub fn replace_section(doc: &str, name: &str, content: &str) -> Result<String, DocsError> {
    let open = format!("<!-- generated:{name} -->");
    let close = format!("<!-- /generated:{name} -->");
    let missing = || DocsError::MissingMarkers(name.to_string());
    let start = doc.find(&open).ok_or_else(missing)? + open.len();
    let end = start + doc[start..].find(&close).ok_or_else(missing)?;
    Ok(format!(
        "{}\n{}\n{}",
        &doc[..start],
        content.trim_end(),
        &doc[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_replaced_between_its_markers_only() {
        let doc = "a\n<!-- generated:t -->\nold\n<!-- /generated:t -->\nb\n";
        let new = replace_section(doc, "t", "new\n").unwrap();
        assert_eq!(
            new,
            "a\n<!-- generated:t -->\nnew\n<!-- /generated:t -->\nb\n"
        );
        assert_eq!(replace_section(&new, "t", "new").unwrap(), new);
        assert_eq!(
            replace_section("a", "t", "x"),
            Err(DocsError::MissingMarkers("t".into()))
        );
    }
}
