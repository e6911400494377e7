//! Spin's `{{ name }}` string templates.
//!
//! A template is literal text with expressions between `{{` and the next
//! `}}`. The only expression Spin allows is the name of an application
//! variable; surrounding whitespace is ignored. A `{{` with no closing `}}`
//! is an error; a lone `}}` is ordinary text.

use std::fmt;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Variable(String),
}

/// A template that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid template {template:?}: {reason}")]
pub struct TemplateError {
    /// The template text.
    pub template: String,
    /// What is wrong.
    pub reason: String,
}

impl Template {
    /// Parses a template.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = source;
        while !rest.is_empty() {
            match rest.find("{{") {
                Some(0) => {
                    let after_open = &rest[2..];
                    let Some(close) = after_open.find("}}") else {
                        return Err(TemplateError {
                            template: source.to_owned(),
                            reason: "'{{' without a closing '}}'".to_owned(),
                        });
                    };
                    parts.push(Part::Variable(after_open[..close].trim().to_owned()));
                    rest = &after_open[close + 2..];
                }
                Some(start) => {
                    parts.push(Part::Text(rest[..start].to_owned()));
                    rest = &rest[start..];
                }
                None => {
                    parts.push(Part::Text(rest.to_owned()));
                    rest = "";
                }
            }
        }
        Ok(Self {
            source: source.to_owned(),
            parts,
        })
    }

    /// The original text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when the template has no `{{ }}` expression.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }

    /// The variable names referenced, in order (with repeats).
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Variable(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// Renders the template, asking `value_of` for each variable.
    pub fn render<E>(
        &self,
        mut value_of: impl FnMut(&str) -> Result<String, E>,
    ) -> Result<String, E> {
        let mut out = String::with_capacity(self.source.len());
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Variable(name) => out.push_str(&value_of(name)?),
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str) -> String {
        Template::parse(template)
            .unwrap()
            .render(|name| Ok::<_, ()>(format!("<{name}>")))
            .unwrap()
    }

    #[test]
    fn literal_and_expressions() {
        assert!(Template::parse("").unwrap().is_literal());
        assert!(Template::parse("plain } }} text").unwrap().is_literal());
        assert_eq!(render("plain }} text"), "plain }} text");
        assert_eq!(render("a-{{ x }}-b"), "a-<x>-b");
        assert_eq!(render("{{x}}{{  y  }}"), "<x><y>");
        assert_eq!(
            render("https://{{ host }}:{{port}}/"),
            "https://<host>:<port>/"
        );
        let t = Template::parse("{{ a }} and {{ b }} and {{ a }}").unwrap();
        assert!(!t.is_literal());
        assert_eq!(t.variables().collect::<Vec<_>>(), ["a", "b", "a"]);
        assert_eq!(t.to_string(), "{{ a }} and {{ b }} and {{ a }}");
    }

    #[test]
    fn unclosed_expression_is_an_error() {
        let err = Template::parse("{{ ok }} {{ open").unwrap_err();
        assert_eq!(err.template, "{{ ok }} {{ open");
        assert!(err.to_string().contains("without a closing"), "{err}");
    }

    #[test]
    fn render_propagates_errors() {
        let t = Template::parse("x{{ missing }}").unwrap();
        let result: Result<String, String> = t.render(|name| Err(format!("no {name}")));
        assert_eq!(result.unwrap_err(), "no missing");
    }
}
