//! Search text as a shopper types it, resolved against the read model's search postings: each
//! word's lexeme (stemmed by PostgreSQL's `english` configuration, as `products.search` is),
//! completions of the word still being typed, and corrections of one typo.
//!
//! Why resolve words before the page query and not let `websearch_to_tsquery` do it: a prefix
//! (`kett:*`) or a misspelling has to become the lexemes that exist in the catalog before the
//! postings can be read in impact order; the page query then reads one ordered index range per
//! lexeme instead of ranking every match.

use std::collections::BTreeSet;

use super::{
    common_terms::CommonTerms,
    prepared::{Preparing, run},
};

use tokio_postgres::{
    Error,
    types::{ToSql, Type},
};

/// Words of a search beyond this many are ignored: each costs a lookup and narrows the result.
pub const MAX_WORDS: usize = 8;
/// Completions of the word being typed, in lexeme order.
pub const MAX_COMPLETIONS: i64 = 8;
/// Words of at least this many characters are forgiven one typo (a shorter word with a typo
/// is another word too often: "mug" and "rug").
pub const TYPO_MIN_CHARS: usize = 5;
/// ...and of at most this many: the spellings one edit away grow with the square of a word's
/// length and alphabet, and a longer "word" is a pasted code, not something typed.
pub const TYPO_MAX_CHARS: usize = 20;
/// Postings counted per word to find the rarest one, which drives a search of several words;
/// the commonest words' counts come from the statistics (`common_terms`).
pub const COUNT_BOUND: i64 = 1_000;

/// Letters a typo may insert or substitute, beside those of the word itself (digits only in a
/// word that has some: a model number's typo).
const TYPO_ALPHABET: &str = "abcdefghijklmnopqrstuvwxyz";

/// The search parameter split into words: every word must match (`-word` must not), and the
/// last one, while still being typed, also matches as a prefix.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchText {
    pub words: Vec<String>,
    pub excluded: Vec<String>,
    /// The text does not end in a space, so its last word may be incomplete.
    pub typing: bool,
}

impl SearchText {
    /// Words of letters and digits, as typed (PostgreSQL lowercases them as it does the
    /// catalog's); everything else separates words, so quotes and websearch operators (`or` is a
    /// stop word) fall away. A leading `-` excludes a word. Repeats count once.
    pub fn parse(raw: &str) -> Self {
        let mut text = SearchText::default();
        // Whether the last word of the text is the last one kept, unexcluded.
        let mut last_kept = false;
        for token in raw.split_whitespace() {
            let (excluded, token) = match token.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, token),
            };
            for word in token
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
            {
                let list = if excluded {
                    &mut text.excluded
                } else {
                    &mut text.words
                };
                let seen = list.iter().any(|w| w.to_lowercase() == word.to_lowercase());
                let kept = !seen && list.len() < MAX_WORDS;
                if kept {
                    list.push(word.to_owned());
                }
                last_kept = kept && !excluded;
            }
        }
        text.typing = last_kept
            && !raw.ends_with(char::is_whitespace)
            && raw
                .split_whitespace()
                .last()
                .is_some_and(|t| t.ends_with(char::is_alphanumeric));
        text
    }
}

/// One word of the search: the lexemes that count as it, its own first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub alternatives: Vec<String>,
    /// Postings of the word's own lexeme, counted up to `COUNT_BOUND` (0 when it has none).
    pub postings: i64,
}

/// A search resolved against the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolved {
    /// Words that are not stop words, in the order typed.
    pub words: Vec<Word>,
    /// Lexemes no match may hold.
    pub excluded: Vec<String>,
}

impl Resolved {
    /// No product can match: nothing to look for, or a word that no product holds.
    pub fn matches_nothing(&self) -> bool {
        self.words.is_empty() || self.words.iter().any(|w| w.alternatives.is_empty())
    }

    /// The word whose postings are read in order: the rarest one, so that the other words,
    /// checked on each candidate, reject as few as possible. Ties go to the first typed.
    pub fn driver(&self) -> usize {
        let counted = |w: &Word| if w.postings > 0 { w.postings } else { i64::MAX };
        (0..self.words.len())
            .min_by_key(|&i| counted(&self.words[i]))
            .unwrap_or(0)
    }

    /// `tsquery` text of every word but `skip` (each an OR of its alternatives) and of the
    /// exclusions; `None` when that leaves nothing to check.
    pub fn tsquery(&self, skip: Option<usize>) -> Option<String> {
        let mut parts: Vec<String> = self
            .words
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != skip)
            .map(|(_, w)| any_of(&w.alternatives))
            .collect();
        parts.extend(self.excluded.iter().map(|e| format!("!{}", quoted(e))));
        (!parts.is_empty()).then(|| parts.join(" & "))
    }
}

/// `tsquery` text matching any of `lexemes`.
pub fn any_of(lexemes: &[String]) -> String {
    let quoted: Vec<String> = lexemes.iter().map(|l| quoted(l)).collect();
    format!("({})", quoted.join(" | "))
}

/// A lexeme as a `tsquery` operand, taken as is (no further normalisation).
fn quoted(lexeme: &str) -> String {
    format!("'{}'", lexeme.replace('\\', "\\\\").replace('\'', "''"))
}

/// Each word's lexeme (NULL for a stop word) and how many postings it has, counted up to `$2`.
const LEXEMES: &str = "
    SELECT w.ord::int4, s.lexeme,
           (SELECT count(*) FROM (SELECT 1 FROM {schema}.search_postings sp
                                  WHERE sp.term = s.lexeme LIMIT $2) AS c)
    FROM unnest($1::text[]) WITH ORDINALITY AS w(word, ord)
    LEFT JOIN LATERAL (SELECT u.lexeme FROM unnest(to_tsvector('english', w.word)) AS u
                       LIMIT 1) AS s ON true
    ORDER BY w.ord";

/// Lexemes starting with `$1`, found by skipping from one distinct term of the postings' index
/// to the next: a few index probes however many postings each term has.
const COMPLETIONS: &str = "
    WITH RECURSIVE completions(term, n) AS (
        (SELECT term, 1 FROM {schema}.search_postings WHERE term >= lower($1) ORDER BY term
         LIMIT 1)
        UNION ALL
        SELECT (SELECT sp.term FROM {schema}.search_postings sp
                WHERE sp.term > c.term ORDER BY sp.term LIMIT 1), c.n + 1
        FROM completions c WHERE starts_with(c.term, lower($1)) AND c.n < $2)
    SELECT term FROM completions WHERE starts_with(term, lower($1))";

/// Which of the candidate spellings (`$2`, for word `$1`) the catalog holds.
const KNOWN: &str = "
    SELECT c.word, c.term
    FROM unnest($1::int4[], $2::text[]) AS c(word, term)
    WHERE EXISTS (SELECT 1 FROM {schema}.search_postings sp WHERE sp.term = c.term)
    ORDER BY c.word, c.term";

/// Resolves `text` against the postings of `schema`: at most three round trips (lexemes and
/// completions together, then typo corrections when a word was not found).
pub async fn resolve(
    conn: &impl Preparing,
    schema: &str,
    text: &SearchText,
    common: &CommonTerms,
) -> Result<Resolved, Error> {
    let all: Vec<String> = text.words.iter().chain(&text.excluded).cloned().collect();
    // One word has nothing to be compared with: finding out whether it exists is enough.
    let bound: i64 = if text.words.len() > 1 { COUNT_BOUND } else { 1 };
    let lexemes_sql = LEXEMES.replace("{schema}", schema);
    let lexemes_params: [(&(dyn ToSql + Sync), Type); 2] =
        [(&all, Type::TEXT_ARRAY), (&bound, Type::INT8)];
    let lexemes = run(conn, &lexemes_sql, &lexemes_params);
    let completions_sql = COMPLETIONS.replace("{schema}", schema);
    let typed = text.words.last().filter(|_| text.typing);
    let (lexemes, completions) = match typed {
        // Sent together: tokio-postgres pipelines them on the one connection.
        Some(prefix) => {
            let params: [(&(dyn ToSql + Sync), Type); 2] =
                [(prefix, Type::TEXT), (&MAX_COMPLETIONS, Type::INT8)];
            let completions = run(conn, &completions_sql, &params);
            let (l, c) = futures::try_join!(lexemes, completions)?;
            (l, c.iter().map(|row| row.get::<_, String>(0)).collect())
        }
        None => (lexemes.await?, Vec::new()),
    };

    let counts = match text.words.len() {
        0 | 1 => None,
        _ => Some(common.of(conn, schema).await?),
    };
    let mut resolved = Resolved::default();
    // Exclusions first: a lexeme that is excluded is no alternative of any word.
    for row in lexemes.iter().skip(text.words.len()) {
        if let Some(lexeme) = row.get::<_, Option<String>>(1) {
            resolved.excluded.push(lexeme);
        }
    }
    let mut typos: Vec<(i32, String)> = Vec::new();
    for (index, row) in lexemes.iter().take(text.words.len()).enumerate() {
        let lexeme: Option<String> = row.get(1);
        let counted: i64 = row.get(2);
        let typed = index + 1 == text.words.len() && text.typing;
        let mut alternatives: Vec<String> = Vec::new();
        if typed {
            // Completions even of a stop word being typed: "on" may become "onion".
            alternatives.extend(completions.iter().cloned());
        }
        // A stop word (or nothing a word is made of) narrows nothing, unless it is being typed
        // into something else.
        let Some(lexeme) = lexeme else {
            alternatives.retain(|a| !resolved.excluded.contains(a));
            if !alternatives.is_empty() {
                resolved.words.push(Word {
                    alternatives,
                    postings: 0,
                });
            }
            continue;
        };
        let postings = counts
            .as_ref()
            .and_then(|c| c.get(&lexeme))
            .map_or(counted, |&estimate| estimate.max(counted));
        alternatives.retain(|a| *a != lexeme);
        if postings > 0 {
            alternatives.insert(0, lexeme.clone());
        }
        alternatives.retain(|a| !resolved.excluded.contains(a));
        let chars = text.words[index].chars().count();
        if alternatives.is_empty()
            && (TYPO_MIN_CHARS..=TYPO_MAX_CHARS).contains(&chars)
            && !resolved.excluded.contains(&lexeme)
        {
            let word = i32::try_from(resolved.words.len()).unwrap_or(i32::MAX);
            typos.extend(one_edit_away(&lexeme).into_iter().map(|c| (word, c)));
        }
        resolved.words.push(Word {
            alternatives,
            postings,
        });
    }
    if !typos.is_empty() {
        let (words, terms): (Vec<i32>, Vec<String>) = typos.into_iter().unzip();
        let known = run(
            conn,
            &KNOWN.replace("{schema}", schema),
            &[(&words, Type::INT4_ARRAY), (&terms, Type::TEXT_ARRAY)],
        )
        .await?;
        for row in known {
            let word: i32 = row.get(0);
            let term: String = row.get(1);
            if resolved.excluded.contains(&term) {
                continue;
            }
            if let Some(w) = usize::try_from(word)
                .ok()
                .and_then(|i| resolved.words.get_mut(i))
            {
                w.alternatives.push(term);
            }
        }
    }
    Ok(resolved)
}

/// Every spelling one edit from `word`: a character deleted, two neighbours swapped, one
/// replaced or one inserted (the optimal string alignment distance 1). Replacements and
/// insertions draw from ASCII letters and the word's own characters.
pub fn one_edit_away(word: &str) -> BTreeSet<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut alphabet: BTreeSet<char> = TYPO_ALPHABET.chars().collect();
    alphabet.extend(chars.iter().copied());
    if chars.iter().any(char::is_ascii_digit) {
        alphabet.extend('0'..='9');
    }
    let spell = |c: &[char]| c.iter().collect::<String>();
    let mut edits = BTreeSet::new();
    for i in 0..chars.len() {
        let mut deleted = chars.clone();
        deleted.remove(i);
        edits.insert(spell(&deleted));
        if i + 1 < chars.len() {
            let mut swapped = chars.clone();
            swapped.swap(i, i + 1);
            edits.insert(spell(&swapped));
        }
        for &letter in &alphabet {
            let mut replaced = chars.clone();
            replaced[i] = letter;
            edits.insert(spell(&replaced));
        }
    }
    for i in 0..=chars.len() {
        for &letter in &alphabet {
            let mut inserted = chars.clone();
            inserted.insert(i, letter);
            edits.insert(spell(&inserted));
        }
    }
    edits.remove(word);
    edits.remove("");
    edits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercased_split_and_the_last_one_is_being_typed() {
        let text = SearchText::parse("Blue KETT");
        assert_eq!(text.words, ["Blue", "KETT"]);
        assert!(text.typing);
        assert!(!SearchText::parse("blue kettle ").typing);
        assert!(!SearchText::parse("\"blue kettle\"").typing);
    }

    #[test]
    fn a_leading_minus_excludes_and_punctuation_separates() {
        let text = SearchText::parse("heavy-duty pan -steel");
        assert_eq!(text.words, ["heavy", "duty", "pan"]);
        assert_eq!(text.excluded, ["steel"]);
        assert!(!text.typing, "the last word is excluded, not typed");
    }

    #[test]
    fn at_most_eight_distinct_words_count_and_a_dropped_last_word_is_not_typed() {
        let text = SearchText::parse("a A b c d e f g h i j k");
        assert_eq!(text.words.len(), MAX_WORDS);
        assert_eq!(text.words[..2], ["a", "b"]);
        assert!(!text.typing, "k was not kept, so nothing completes h");
        assert!(!SearchText::parse("kettle lamp kettle").typing);
    }

    #[test]
    fn one_edit_covers_each_kind_of_typo_and_not_two() {
        let edits = one_edit_away("kettl");
        for typo in ["ketl", "kettel", "ktetl", "kettk"] {
            assert!(edits.contains(typo), "{typo}");
        }
        assert!(!edits.contains("kettl"));
        assert!(!edits.contains("ktel"));
    }

    #[test]
    fn the_rarest_word_drives_and_the_others_are_checked() {
        let word = |alternatives: &[&str], postings| Word {
            alternatives: alternatives.iter().map(|a| a.to_string()).collect(),
            postings,
        };
        let resolved = Resolved {
            words: vec![
                word(&["catalog"], 10_000),
                word(&["kettl", "kettlebel"], 240),
            ],
            excluded: vec!["it's".to_owned()],
        };
        assert_eq!(resolved.driver(), 1);
        assert_eq!(
            resolved.tsquery(Some(1)).as_deref(),
            Some("('catalog') & !'it''s'")
        );
        assert_eq!(
            resolved.tsquery(None).as_deref(),
            Some("('catalog') & ('kettl' | 'kettlebel') & !'it''s'")
        );
        assert!(!resolved.matches_nothing());
        let missing = Resolved {
            words: vec![word(&[], 0)],
            excluded: vec![],
        };
        assert!(missing.matches_nothing());
    }
}
