//! Text as it is said: what the screen writes, rewritten so that the speech synthesiser says
//! it the way people say it in the session's language. Prices ("11,50 €", "€11.50") become
//! "11 euros 50", order numbers ("A042") "A 42", and a long run of digits, which could be
//! card data, is never said.

use crate::model::with_digit_runs;

/// The currencies the kiosk writes, with their spoken names (singular, plural) and those of
/// their cents, in French and in English.
const CURRENCIES: [(&str, [&str; 4], [&str; 4]); 4] = [
    ("€", ["euro", "euros", "centime", "centimes"], ["euro", "euros", "cent", "cents"]),
    ("$", ["dollar", "dollars", "cent", "cents"], ["dollar", "dollars", "cent", "cents"]),
    ("£", ["livre", "livres", "penny", "pence"], ["pound", "pounds", "penny", "pence"]),
    ("CHF", ["franc", "francs", "centime", "centimes"], ["franc", "francs", "centime", "centimes"]),
];

/// Runs of this many digits or more (spaces and dashes inside counted in) are never said.
const UNSPOKEN_DIGITS: usize = 8;

/// `text`, from the screen, as it is said in `language`; order numbers are those of a kiosk
/// numbering its orders with `order_prefix`.
pub fn spoken(text: &str, language: &str, order_prefix: &str) -> String {
    let without_numbers = without_long_numbers(text);
    let mut out = String::with_capacity(without_numbers.len());
    let mut rest = without_numbers.as_str();
    while !rest.is_empty() {
        if let Some((said, length)) = price_at(rest, language) {
            out.push_str(&said);
            rest = &rest[length..];
        } else {
            let next = rest.chars().next().map_or(1, char::len_utf8);
            out.push_str(&rest[..next]);
            rest = &rest[next..];
        }
    }
    with_order_numbers_said(&out, order_prefix).replace('\u{a0}', " ")
}

/// Every order number in `text` (the prefix, then three digits or more, a word of its own)
/// as people say it.
fn with_order_numbers_said(text: &str, prefix: &str) -> String {
    if prefix.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let after = &rest[at + prefix.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let starts_word = !rest[..at].chars().next_back().is_some_and(char::is_alphanumeric);
        let ends_word = !after[digits..].chars().next().is_some_and(char::is_alphanumeric);
        out.push_str(&rest[..at]);
        let token = &rest[at..at + prefix.len() + digits];
        if starts_word && ends_word && digits >= 3 {
            out.push_str(&order_number(prefix, token));
        } else {
            out.push_str(&rest[at..at + prefix.len()]);
        }
        rest = &rest[at + prefix.len()..];
        if starts_word && ends_word && digits >= 3 {
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// An order number as people say it: the kiosk's prefix spelled, then the day's sequence
/// without its leading zeros ("A042" of prefix "A" becomes "A 42", "K2007" of "K2" "K 2 7").
pub fn order_number(prefix: &str, number: &str) -> String {
    let Some(sequence) = number.strip_prefix(prefix) else { return number.to_owned() };
    let value = sequence.trim_start_matches('0');
    let value = if value.is_empty() { "0" } else { value };
    let spelled: Vec<String> = prefix.chars().map(String::from).collect();
    format!("{} {value}", spelled.join(" "))
}

/// A price starting `text`, said; with how many bytes of `text` it took.
fn price_at(text: &str, language: &str) -> Option<(String, usize)> {
    let (sign, after_sign) = match text.chars().next()? {
        '+' => (Some("plus"), 1),
        '-' | '−' => (Some(if language == "fr" { "moins" } else { "minus" }), text.chars().next()?.len_utf8()),
        _ => (None, 0),
    };
    let body = &text[after_sign..];
    // "€11.50", "CHF 11.50" (English) or "11,50 €", "11,50 CHF" (French).
    let symbol_first = CURRENCIES.iter().find_map(|currency| {
        let rest = body.strip_prefix(currency.0)?;
        let spaced = rest.strip_prefix('\u{a0}').or_else(|| rest.strip_prefix(' ')).unwrap_or(rest);
        let (units, cents, length) = amount(spaced, '.')?;
        Some((currency, units, cents, after_sign + (body.len() - spaced.len()) + length))
    });
    let found = symbol_first.or_else(|| {
        let (units, cents, length) = amount(body, if language == "fr" { ',' } else { '.' })?;
        let after = &body[length..];
        let spaced = after.strip_prefix('\u{a0}').or_else(|| after.strip_prefix(' '))?;
        CURRENCIES.iter().find_map(|currency| {
            spaced.strip_prefix(currency.0).map(|_| {
                (currency, units.clone(), cents, after_sign + length + (after.len() - spaced.len()) + currency.0.len())
            })
        })
    })?;
    let (currency, units, cents, length) = found;
    let names = if language == "fr" { currency.1 } else { currency.2 };
    let name = |count: u64, singular: &str, plural: &str| {
        let noun = if count > 1 { plural } else { singular };
        format!("{count} {noun}")
    };
    let units_value: u64 = units.parse().ok()?;
    let said = match (units_value, cents) {
        (0, Some(cents)) if cents > 0 => name(cents, names[2], names[3]),
        (units, Some(cents)) if cents > 0 => format!("{} {cents}", name(units, names[0], names[1])),
        (units, _) => name(units, names[0], names[1]),
    };
    Some((sign.map_or(said.clone(), |sign| format!("{sign} {said}")), length))
}

/// Digits (thousands separated by a space or a non-breaking one), then the decimal mark and
/// two digits if there are cents: the units, the cents and the bytes taken.
fn amount(text: &str, decimal_mark: char) -> Option<(String, Option<u64>, usize)> {
    let mut units = String::new();
    let mut length = 0;
    let mut chars = text.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        let separator = (c == ' ' || c == '\u{a0}' || c == '\u{202f}')
            && !units.is_empty()
            && text[at + c.len_utf8()..].chars().take(3).filter(char::is_ascii_digit).count() == 3
            && !text[at + c.len_utf8()..].chars().nth(3).is_some_and(|next| next.is_ascii_digit());
        if c.is_ascii_digit() {
            units.push(c);
            length = at + 1;
        } else if !separator {
            break;
        }
        chars.next();
    }
    if units.is_empty() {
        return None;
    }
    let rest = &text[length..];
    let cents = rest.strip_prefix(decimal_mark).and_then(|after| {
        let two: String = after.chars().take(2).collect();
        (two.len() == 2
            && two.bytes().all(|b| b.is_ascii_digit())
            && !after[2..].starts_with(|c: char| c.is_ascii_digit()))
        .then(|| two.parse().ok())
        .flatten()
    });
    let length = if cents.is_some() { length + 3 } else { length };
    Some((units, cents, length))
}

/// The text with every run of [`UNSPOKEN_DIGITS`] or more digits left out.
fn without_long_numbers(text: &str) -> String {
    with_digit_runs(text, |run, digits| if digits < UNSPOKEN_DIGITS { run.to_owned() } else { String::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_as_people_say_them() {
        let cases = [
            ("Menu Burger, 11,50\u{a0}€", "fr", "Menu Burger, 11 euros 50"),
            ("Menu Burger, €11.50", "en", "Menu Burger, 11 euros 50"),
            ("Total 1,00\u{a0}€", "fr", "Total 1 euro"),
            ("Total €1.00", "en", "Total 1 euro"),
            ("Café 0,50\u{a0}€", "fr", "Café 50 centimes"),
            ("Coffee €0.50", "en", "Coffee 50 cents"),
            ("Supplément +1,50\u{a0}€", "fr", "Supplément plus 1 euro 50"),
            ("Discount -€2.00", "en", "Discount minus 2 euros"),
            ("Remise -2,00\u{a0}€", "fr", "Remise moins 2 euros"),
            ("Tea £1.05", "en", "Tea 1 pound 5"),
            ("Thé 3,20\u{a0}CHF", "fr", "Thé 3 francs 20"),
            ("Tea CHF\u{a0}3.20", "en", "Tea 3 francs 20"),
            ("Groupe 1\u{a0}250,00\u{a0}€", "fr", "Groupe 1250 euros"),
            ("Group €1 250.00", "en", "Group 1250 euros"),
        ];
        for (text, language, said) in cases {
            assert_eq!(spoken(text, language, "A"), said, "{text:?} in {language}");
        }
    }

    #[test]
    fn words_and_numbers_that_are_not_prices_stay() {
        assert_eq!(spoken("2 sur 9", "fr", "A"), "2 sur 9");
        assert_eq!(spoken("Step 1 of 3: Drink", "en", "A"), "Step 1 of 3: Drink");
        assert_eq!(spoken("incl. VAT 5.5%", "en", "A"), "incl. VAT 5.5%");
        assert_eq!(spoken("1,5 l", "fr", "A"), "1,5 l", "a decimal without a currency");
        assert_eq!(spoken("€", "en", "A"), "€", "a symbol alone");
    }

    #[test]
    fn card_data_is_never_said() {
        assert_eq!(spoken("Card 4970 1012 3456 7890 declined", "en", "A"), "Card declined");
        assert_eq!(spoken("Card 4970\u{a0}1012\u{202f}3456-7890 declined", "en", "A"), "Card declined");
        assert_eq!(spoken("Ref 12345678", "en", "A"), "Ref ");
        assert_eq!(spoken("Order 1234567 seats", "en", "A"), "Order 1234567 seats", "seven digits are said");
    }

    #[test]
    fn order_numbers_in_a_text() {
        assert_eq!(spoken("Order number A042", "en", "A"), "Order number A 42");
        assert_eq!(spoken("show order A042 to a member", "en", "A"), "show order A 42 to a member");
        assert_eq!(spoken("A1 sauce, AB042, A04", "en", "A"), "A1 sauce, AB042, A04", "not order numbers");
        assert_eq!(spoken("Order K2007", "fr", "K2"), "Order K 2 7");
        assert_eq!(spoken("Order A042", "fr", ""), "Order A042", "no prefix, nothing to find");
    }

    #[test]
    fn order_numbers_as_people_say_them() {
        assert_eq!(order_number("A", "A042"), "A 42");
        assert_eq!(order_number("B", "B001"), "B 1");
        assert_eq!(order_number("K2", "K2007"), "K 2 7");
        assert_eq!(order_number("K", "K2007"), "K 2007");
        assert_eq!(order_number("AB", "AB1000"), "A B 1000");
        assert_eq!(order_number("A", "A000"), "A 0");
        assert_eq!(order_number("A", "B042"), "B042", "another kiosk's number is said as written");
    }
}
