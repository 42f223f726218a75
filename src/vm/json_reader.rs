//! A small JSON reader for the binder's fast path.
//!
//! `bind_text` walks a profile with serde visitors. Driven by serde_json's
//! reader, most of a bind went into that reader's general machinery (error
//! positions, a scratch buffer per string, a SIMD-style scan set up for
//! every short string). This reader does the same walk over the same
//! visitors, with a byte loop and no bookkeeping.
//!
//! It is deliberately a *partial* reader: on anything it does not accept
//! (invalid JSON, nesting deeper than serde_json allows, a float out of
//! range, a surrogate escape that is not a pair) it gives up with [`Bail`]
//! and the caller reads the text again with serde_json, whose result and
//! error message then stand. So this reader must never accept a document
//! serde_json rejects, nor read one differently; it may reject more.
//! `tests/bind_text.rs` checks both against each other.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// The reader gave up; serde_json decides instead.
#[derive(Debug)]
pub struct Bail;

impl fmt::Display for Bail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("left to serde_json")
    }
}

impl std::error::Error for Bail {}

impl de::Error for Bail {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Bail
    }
}

/// serde_json refuses documents nested deeper than this.
const MAX_DEPTH: u32 = 128;

/// A JSON document being read.
pub struct JsonReader<'de> {
    text: &'de str,
    pos: usize,
    /// Open arrays and objects around `pos`.
    depth: u32,
    /// Set when an array or object has been read to its closing bracket,
    /// so a visitor that stopped early is caught rather than trusted.
    closed: bool,
    /// Decoded text of a string with escapes.
    scratch: String,
}

impl<'de> JsonReader<'de> {
    pub fn new(text: &'de str) -> JsonReader<'de> {
        JsonReader {
            text,
            pos: 0,
            depth: 0,
            closed: false,
            scratch: String::new(),
        }
    }

    /// Checks that only whitespace follows the document.
    pub fn end(&mut self) -> Result<(), Bail> {
        self.skip_ws();
        if self.pos == self.text.len() {
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// Consumes a `{` if one comes next: the caller then reads the
    /// entries with [`JsonReader::next_key`] and ends with
    /// [`JsonReader::close`].
    pub fn begin_object(&mut self) -> Result<bool, Bail> {
        if self.peek_token()? == b'{' {
            self.pos += 1;
            self.open()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// The next key of an object and its `:`, or `None` at the closing
    /// `}`. A key with escapes is decoded into [`JsonReader::scratch`],
    /// and `Some(None)` says to look there.
    pub fn next_key(&mut self, first: bool) -> Result<Option<Option<&'de str>>, Bail> {
        if !self.key_follows(first)? {
            return Ok(None);
        }
        let key = self.string()?;
        self.expect(b':')?;
        Ok(Some(key))
    }

    /// Reads up to the opening quote of the next key (past the `,` that
    /// separates it from the last value), or reads the closing `}` and
    /// returns false.
    fn key_follows(&mut self, first: bool) -> Result<bool, Bail> {
        match (self.next_token()?, first) {
            (b'}', _) => {
                self.closed = true;
                Ok(false)
            }
            (b'"', true) => Ok(true),
            (b',', false) => self.expect(b'"').map(|()| true),
            _ => Err(Bail),
        }
    }

    /// Like [`JsonReader::next_key`] for an object whose interesting keys
    /// are known: `Some(Some(i))` for `probes[i]`, `Some(None)` for any
    /// other key (its `:` read too), `None` at the closing `}`. A key is
    /// usually recognised in place, without reading it as a string first.
    #[inline]
    pub fn next_key_among(
        &mut self,
        first: bool,
        probes: &[KeyProbe],
    ) -> Result<Option<Option<usize>>, Bail> {
        if !self.key_follows(first)? {
            return Ok(None);
        }
        let rest = self.bytes().get(self.pos..).unwrap_or_default();
        let in_place = match rest.get(..16) {
            Some(words) => {
                let (w0, w1) = (word(&words[..8]), word(&words[8..]));
                // A probe that is not direct never matches: its mask is
                // zero and its head is not.
                probes.iter().position(|p| {
                    w0 & p.mask[0] == p.head[0]
                        && w1 & p.mask[1] == p.head[1]
                        && (p.quoted.len() <= 16
                            || rest.get(16..p.quoted.len()) == Some(&p.quoted[16..]))
                })
            }
            None => probes
                .iter()
                .position(|p| p.direct && rest.starts_with(&p.quoted)),
        };
        let found = match in_place {
            Some(i) => {
                self.pos += probes[i].quoted.len();
                Some(i)
            }
            // A plain key that matched nothing in place is none of them;
            // one with escapes is compared decoded.
            None => match self.string()? {
                Some(_) => None,
                None => probes
                    .iter()
                    .position(|p| p.key() == self.scratch.as_bytes()),
            },
        };
        self.expect(b':')?;
        Ok(Some(found))
    }

    /// The last string decoded with escapes.
    pub fn scratch(&self) -> &str {
        &self.scratch
    }

    /// The next byte after whitespace, not consumed.
    pub fn peek_token(&mut self) -> Result<u8, Bail> {
        self.skip_ws();
        self.peek().ok_or(Bail)
    }

    /// Reads the start of the next value (inlined into the readers of
    /// values: as a call per value it costs the events' binding ~3 %).
    #[inline(always)]
    pub fn token(&mut self) -> Result<Token<'de>, Bail> {
        Ok(match self.next_token()? {
            b'"' => Token::Str(self.string()?),
            b'{' => {
                self.open()?;
                Token::Object
            }
            b'[' => {
                self.open()?;
                Token::Array
            }
            b't' => {
                self.literal(b"rue")?;
                Token::Bool(true)
            }
            b'f' => {
                self.literal(b"alse")?;
                Token::Bool(false)
            }
            b'n' => {
                self.literal(b"ull")?;
                Token::Null
            }
            b'-' | b'0'..=b'9' => {
                self.pos -= 1;
                self.number()?
            }
            _ => return Err(Bail),
        })
    }

    /// Whether another element of an array follows (its `,` read), or
    /// the closing `]` (read).
    pub fn next_element(&mut self, first: bool) -> Result<bool, Bail> {
        match (self.peek_token()?, first) {
            (b']', _) => {
                self.pos += 1;
                self.closed = true;
                Ok(false)
            }
            (b',', false) => {
                self.pos += 1;
                Ok(true)
            }
            (_, true) => Ok(true),
            _ => Err(Bail),
        }
    }

    /// Skips the rest of the object (or array) whose opening bracket
    /// [`JsonReader::token`] read, through its closing bracket.
    pub fn skip_rest(&mut self, object: bool) -> Result<(), Bail> {
        let mut first = true;
        if object {
            while self.next_key(first)?.is_some() {
                first = false;
                self.skip_value()?;
            }
        } else {
            while self.next_element(first)? {
                first = false;
                self.skip_value()?;
            }
        }
        self.close()
    }

    fn bytes(&self) -> &'de [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        let bytes = self.bytes();
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte after whitespace, consumed.
    fn next_token(&mut self) -> Result<u8, Bail> {
        self.skip_ws();
        let b = self.peek().ok_or(Bail)?;
        self.pos += 1;
        Ok(b)
    }

    fn expect(&mut self, byte: u8) -> Result<(), Bail> {
        if self.next_token()? == byte {
            Ok(())
        } else {
            Err(Bail)
        }
    }

    fn literal(&mut self, rest: &[u8]) -> Result<(), Bail> {
        if self.bytes()[self.pos..].starts_with(rest) {
            self.pos += rest.len();
            Ok(())
        } else {
            Err(Bail)
        }
    }

    fn open(&mut self) -> Result<(), Bail> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Bail);
        }
        Ok(())
    }

    /// After a container's entries or elements: they must have been read
    /// to the closing bracket.
    pub fn close(&mut self) -> Result<(), Bail> {
        self.depth -= 1;
        if std::mem::take(&mut self.closed) {
            Ok(())
        } else {
            Err(Bail)
        }
    }

    // ------------------------------------------------------------ strings

    /// Reads a string whose opening quote is consumed. Without escapes it
    /// is borrowed from the text; otherwise it is decoded into `scratch`
    /// and `None` says to look there.
    fn string(&mut self) -> Result<Option<&'de str>, Bail> {
        let bytes = self.bytes();
        let start = self.pos;
        let i = find_special(bytes, start);
        match *bytes.get(i).ok_or(Bail)? {
            b'"' => {
                self.pos = i + 1;
                // Quotes are ASCII, so both ends are character boundaries.
                return Ok(Some(&self.text[start..i]));
            }
            b'\\' => {}
            _ => return Err(Bail),
        }
        self.scratch.clear();
        self.scratch.push_str(&self.text[start..i]);
        self.pos = i;
        loop {
            match *bytes.get(self.pos).ok_or(Bail)? {
                b'"' => {
                    self.pos += 1;
                    return Ok(None);
                }
                b'\\' => {
                    self.pos += 1;
                    let c = self.escape()?;
                    self.scratch.push(c);
                }
                0..=0x1f => return Err(Bail),
                _ => {
                    // Copy the run up to the next quote or backslash.
                    let run = self.pos;
                    self.pos = find_special(bytes, run);
                    self.scratch.push_str(&self.text[run..self.pos]);
                }
            }
        }
    }

    /// Decodes one escape after its backslash.
    fn escape(&mut self) -> Result<char, Bail> {
        let b = *self.bytes().get(self.pos).ok_or(Bail)?;
        self.pos += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                let code = match high {
                    0xD800..=0xDBFF => {
                        // Only a complete surrogate pair is taken; serde_json
                        // reports anything else.
                        self.literal(b"\\u")?;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(Bail);
                        }
                        0x1_0000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(low) - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(Bail),
                    _ => u32::from(high),
                };
                char::from_u32(code).ok_or(Bail)?
            }
            _ => return Err(Bail),
        })
    }

    fn hex4(&mut self) -> Result<u16, Bail> {
        let digits = self.bytes().get(self.pos..self.pos + 4).ok_or(Bail)?;
        let mut n = 0u16;
        for &d in digits {
            let v = (d as char).to_digit(16).ok_or(Bail)?;
            n = n << 4 | v as u16;
        }
        self.pos += 4;
        Ok(n)
    }

    /// Skips a string whose opening quote is consumed.
    fn skip_string(&mut self) -> Result<(), Bail> {
        let bytes = self.bytes();
        loop {
            self.pos = find_special(bytes, self.pos);
            let b = *bytes.get(self.pos).ok_or(Bail)?;
            self.pos += 1;
            match b {
                b'"' => return Ok(()),
                b'\\' => match *bytes.get(self.pos).ok_or(Bail)? {
                    b'u' => {
                        self.pos += 1;
                        self.hex4()?;
                    }
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 1,
                    _ => return Err(Bail),
                },
                _ => return Err(Bail),
            }
        }
    }

    // ------------------------------------------------------------ numbers

    /// Reads a number as serde_json does: an integer without fraction or
    /// exponent that fits is `U64` (or `I64` when negative); anything else,
    /// `-0` included, is a float.
    fn number(&mut self) -> Result<Token<'de>, Bail> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let (magnitude, overflow) = self.integer_part()?;
        let fraction_start = self.pos;
        let fraction = self.fraction_and_exponent()?;
        if fraction || overflow {
            let f =
                match exact_decimal(magnitude, overflow, &self.bytes()[fraction_start..self.pos]) {
                    Some(f) if negative => -f,
                    Some(f) => f,
                    // The text includes the sign.
                    None => self.text[start..self.pos].parse().map_err(|_| Bail)?,
                };
            return if f.is_finite() {
                Ok(Token::F64(f))
            } else {
                Err(Bail)
            };
        }
        if !negative {
            return Ok(Token::U64(magnitude));
        }
        let value = (magnitude as i64).wrapping_neg();
        Ok(if value >= 0 {
            // `-0`, or below `i64::MIN`.
            Token::F64(-(magnitude as f64))
        } else {
            Token::I64(value)
        })
    }

    /// The digits before any fraction: their value and whether it
    /// overflowed a `u64`.
    fn integer_part(&mut self) -> Result<(u64, bool), Bail> {
        let bytes = self.bytes();
        match bytes.get(self.pos) {
            Some(b'0') => {
                self.pos += 1;
                // One leading zero only.
                match bytes.get(self.pos) {
                    Some(b'0'..=b'9') => Err(Bail),
                    _ => Ok((0, false)),
                }
            }
            Some(b'1'..=b'9') => {
                let mut n = 0u64;
                let mut overflow = false;
                while let Some(&d @ b'0'..=b'9') = bytes.get(self.pos) {
                    match n
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(u64::from(d - b'0')))
                    {
                        Some(m) => n = m,
                        None => overflow = true,
                    }
                    self.pos += 1;
                }
                Ok((n, overflow))
            }
            _ => Err(Bail),
        }
    }

    /// Reads `.digits` and `e±digits` if present; true if either was.
    fn fraction_and_exponent(&mut self) -> Result<bool, Bail> {
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.digits()?;
            float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.digits()?;
            float = true;
        }
        Ok(float)
    }

    /// One or more digits.
    fn digits(&mut self) -> Result<(), Bail> {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        if self.pos > start {
            Ok(())
        } else {
            Err(Bail)
        }
    }

    // ------------------------------------------------------------ skipping

    /// Skips one value, checking its syntax as serde_json would. Like
    /// serde_json's, it keeps its own stack instead of recursing and has
    /// no depth limit: a deep value that no rule reads is fine.
    pub fn skip_value(&mut self) -> Result<(), Bail> {
        let mut open = Nesting::default();
        loop {
            match self.next_token()? {
                b'"' => self.skip_string()?,
                b'{' => {
                    if self.peek_token()? == b'}' {
                        self.pos += 1;
                    } else {
                        open.push(true);
                        self.skip_key()?;
                        continue;
                    }
                }
                b'[' => {
                    if self.peek_token()? == b']' {
                        self.pos += 1;
                    } else {
                        open.push(false);
                        continue;
                    }
                }
                b't' => self.literal(b"rue")?,
                b'f' => self.literal(b"alse")?,
                b'n' => self.literal(b"ull")?,
                b'-' | b'0'..=b'9' => {
                    self.pos -= 1;
                    if self.peek() == Some(b'-') {
                        self.pos += 1;
                    }
                    self.integer_part()?;
                    self.fraction_and_exponent()?;
                }
                _ => return Err(Bail),
            }
            // After a value: close what ends here, up to the next element.
            loop {
                let Some(in_object) = open.top() else {
                    return Ok(());
                };
                match self.next_token()? {
                    b',' if in_object => {
                        self.skip_key()?;
                        break;
                    }
                    b',' => break,
                    b'}' if in_object => open.pop(),
                    b']' if !in_object => open.pop(),
                    _ => return Err(Bail),
                }
            }
        }
    }

    /// Skips `"key":` inside an object being skipped.
    fn skip_key(&mut self) -> Result<(), Bail> {
        self.expect(b'"')?;
        self.skip_string()?;
        self.expect(b':')
    }
}

/// The containers a skip is inside, innermost last (`true` for an
/// object): the first 64 in one word, so skipping allocates only for
/// deeper data.
#[derive(Default)]
struct Nesting {
    word: u64,
    depth: usize,
    deeper: Vec<bool>,
}

impl Nesting {
    fn push(&mut self, object: bool) {
        if self.depth < 64 {
            self.word = self.word & !(1 << self.depth) | u64::from(object) << self.depth;
        } else {
            self.deeper.push(object);
        }
        self.depth += 1;
    }

    fn pop(&mut self) {
        self.depth -= 1;
        if self.depth >= 64 {
            self.deeper.pop();
        }
    }

    fn top(&self) -> Option<bool> {
        match self.depth {
            0 => None,
            d if d <= 64 => Some(self.word >> (d - 1) & 1 == 1),
            _ => self.deeper.last().copied(),
        }
    }
}

/// The index of the first `"`, `\\` or control character at or after `i`
/// (or the length of `bytes` if there is none), eight bytes at a time.
fn find_special(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    while let Some(word) = bytes
        .get(i..i + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
    {
        let w = u64::from_le_bytes(word);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        // Classic zero-byte and less-than tests: a borrow only ever runs
        // upwards from a byte that is itself a hit, so the lowest flagged
        // byte is exact (bytes above it may be flagged falsely).
        let hits = (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | w.wrapping_sub(ONES * 0x20) & !w)
            & HIGH;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// A plain decimal such as `0.62` without calling the general float
/// parser: when the digits fit in 53 bits and there are at most 22
/// fraction digits, both the digits and the power of ten are exact
/// doubles, so one division is correctly rounded (Clinger's fast path),
/// the same double `str::parse` gives. `None` for anything else.
fn exact_decimal(integer: u64, overflow: bool, fraction: &[u8]) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let digits = fraction.strip_prefix(b".")?;
    if overflow || digits.len() >= POW10.len() {
        return None;
    }
    let mut m = integer;
    for &d in digits {
        // An exponent, or too many digits: leave it to the general parser.
        if !d.is_ascii_digit() {
            return None;
        }
        m = m.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if m > 1 << 53 {
        return None;
    }
    Some(m as f64 / POW10[digits.len()])
}

/// An object key a caller looks for, prepared so that the key can be
/// recognised in the text in place, usually with two 8-byte comparisons.
#[derive(Clone, Debug)]
pub struct KeyProbe {
    /// The key's bytes and the closing quote.
    quoted: Box<[u8]>,
    /// The first (up to) sixteen bytes of `quoted` as two little-endian
    /// words, and the masks of the bytes that count.
    head: [u64; 2],
    mask: [u64; 2],
    /// False when the key holds a character JSON must escape: then it is
    /// only ever matched decoded.
    direct: bool,
}

impl KeyProbe {
    pub fn new(key: &str) -> KeyProbe {
        let mut quoted = key.as_bytes().to_vec();
        quoted.push(b'"');
        let direct = !key.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
        let mut bytes = [0u8; 16];
        let n = quoted.len().min(16);
        bytes[..n].copy_from_slice(&quoted[..n]);
        let mask_of = |count: usize| match count {
            0 => 0,
            8.. => u64::MAX,
            c => (1u64 << (8 * c)) - 1,
        };
        let (head, mask) = if direct {
            (
                [word(&bytes[..8]), word(&bytes[8..])],
                [mask_of(n), mask_of(n.saturating_sub(8))],
            )
        } else {
            ([1, 0], [0, 0])
        };
        KeyProbe {
            direct,
            head,
            mask,
            quoted: quoted.into(),
        }
    }

    fn key(&self) -> &[u8] {
        &self.quoted[..self.quoted.len() - 1]
    }
}

/// Eight bytes as a little-endian word (zero if there are fewer).
fn word(bytes: &[u8]) -> u64 {
    bytes
        .get(..8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map_or(0, u64::from_le_bytes)
}

/// The start of a value, as [`JsonReader::token`] reads it. Numbers are
/// told apart as serde_json tells them apart for a visitor.
pub enum Token<'de> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    /// A string; `None` when it had escapes and was decoded into
    /// [`JsonReader::scratch`].
    Str(Option<&'de str>),
    /// `[` is read: the caller reads the elements with
    /// [`JsonReader::next_element`] and ends with [`JsonReader::close`].
    Array,
    /// `{` is read: the caller reads the entries with
    /// [`JsonReader::next_key`] and ends with [`JsonReader::close`].
    Object,
}

impl<'de> de::Deserializer<'de> for &mut JsonReader<'de> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        match self.token()? {
            Token::Null => visitor.visit_unit(),
            Token::Bool(v) => visitor.visit_bool(v),
            Token::U64(n) => visitor.visit_u64(n),
            Token::I64(n) => visitor.visit_i64(n),
            Token::F64(f) => visitor.visit_f64(f),
            Token::Str(Some(s)) => visitor.visit_borrowed_str(s),
            Token::Str(None) => visitor.visit_str(&self.scratch),
            Token::Array => {
                let value = visitor.visit_seq(Elements {
                    reader: &mut *self,
                    first: true,
                })?;
                self.close()?;
                Ok(value)
            }
            Token::Object => {
                let value = visitor.visit_map(Entries {
                    reader: &mut *self,
                    first: true,
                })?;
                self.close()?;
                Ok(value)
            }
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        self.skip_value()?;
        visitor.visit_unit()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        self.skip_ws();
        if self.peek() == Some(b'n') {
            self.pos += 1;
            self.literal(b"ull")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier
    }
}

/// The entries of an object whose `{` is consumed.
struct Entries<'a, 'de> {
    reader: &'a mut JsonReader<'de>,
    first: bool,
}

impl<'de> MapAccess<'de> for Entries<'_, 'de> {
    type Error = Bail;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Bail> {
        let r = &mut *self.reader;
        let Some(key) = r.next_key(self.first)? else {
            return Ok(None);
        };
        self.first = false;
        match key {
            Some(s) => seed.deserialize(de::value::BorrowedStrDeserializer::<Bail>::new(s)),
            None => seed.deserialize(de::value::StrDeserializer::<Bail>::new(&r.scratch)),
        }
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Bail> {
        seed.deserialize(&mut *self.reader)
    }
}

/// The elements of an array whose `[` is consumed.
struct Elements<'a, 'de> {
    reader: &'a mut JsonReader<'de>,
    first: bool,
}

impl<'de> SeqAccess<'de> for Elements<'_, 'de> {
    type Error = Bail;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Bail> {
        if !self.reader.next_element(self.first)? {
            return Ok(None);
        }
        self.first = false;
        seed.deserialize(&mut *self.reader).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::Value as Json;

    /// What this reader makes of a document, or `None` if it gives up.
    fn read(text: &str) -> Option<Json> {
        let mut r = JsonReader::new(text);
        let v = Json::deserialize(&mut r).ok()?;
        r.end().ok()?;
        Some(v)
    }

    /// Every document is read as serde_json reads it, or left to it.
    fn agrees(text: &str) -> bool {
        let ours = read(text);
        let theirs = serde_json::from_str::<Json>(text).ok();
        match (&ours, &theirs) {
            // Floats compared by bits, so -0.0 and 0.0 differ.
            (Some(a), Some(b)) => same(a, b),
            (Some(_), None) => false,
            (None, _) => true,
        }
    }

    fn same(a: &Json, b: &Json) -> bool {
        match (a, b) {
            (Json::Number(x), Json::Number(y)) => match (x.as_f64(), y.as_f64()) {
                _ if x.is_i64() || x.is_u64() => x == y,
                (Some(p), Some(q)) => !y.is_i64() && !y.is_u64() && p.to_bits() == q.to_bits(),
                _ => false,
            },
            (Json::Array(x), Json::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
            }
            (Json::Object(x), Json::Object(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|((k, a), (l, b))| k == l && same(a, b))
            }
            _ => a == b,
        }
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"a": 1, "b": [true, false, null], "c": {"d": "e"}}"#,
            " \n\t{ } ",
            "[]",
            "[ ]",
            r#""plain""#,
            r#""esc\"aped\\ \/ \b\f\n\r\t \u00e9 \ud83d\ude00""#,
            "0",
            "-0",
            "-0.0",
            "-0e0",
            "-0.0e1",
            "-1.5e-3",
            "12",
            "-12",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "123456789012345678901234567890",
            "0.1",
            "1e3",
            "1E-3",
            "2.5e+10",
            "0.30000000000000004",
            "1e-400",
            "4.9406564584124654e-324",
            "1.7976931348623157e308",
            r#"{"k": 1, "k": 2}"#,
        ] {
            assert!(read(text).is_some(), "gave up on {text}");
            assert!(agrees(text), "disagrees on {text}");
        }
    }

    #[test]
    fn plain_decimals_read_as_the_float_parser_reads_them() {
        let mut rng = crate::population::Rng::new(0x2545_f491_4f6c_dd1d);
        let mut next = || rng.next_u64();
        for _ in 0..20_000 {
            let int = next() % 10_000_000;
            let places = (next() % 18 + 1) as usize;
            let frac = next() % 10u64.pow(places.min(19) as u32);
            for sign in ["", "-"] {
                let text = format!("{sign}{int}.{frac:0places$}");
                let mut r = JsonReader::new(&text);
                let ours = match r.number() {
                    Ok(Token::F64(f)) => f,
                    _ => panic!("{text} is not a float"),
                };
                let parsed: f64 = text.parse().unwrap();
                assert_eq!(ours.to_bits(), parsed.to_bits(), "{text}");
                let theirs: f64 = serde_json::from_str(&text).unwrap();
                assert_eq!(ours.to_bits(), theirs.to_bits(), "{text}");
            }
        }
    }

    #[test]
    fn leaves_what_serde_json_rejects_to_it() {
        for text in [
            "",
            " ",
            "{",
            "}",
            "[",
            "[1,]",
            "[,1]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{a:1}",
            "01",
            "-",
            "1.",
            ".5",
            "+1",
            "1e",
            "1e+",
            "tru",
            "nul",
            "truex",
            "1 2",
            "{} x",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"a\nb\"",
            "1e400",
            "-1e400",
            "\u{feff}{}",
            "[1 2]",
            "{\"a\":1 \"b\":2}",
        ] {
            assert!(read(text).is_none(), "accepted {text:?}");
            assert!(agrees(text));
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(read(&deep).is_none());
        // Skipped, the same depth is fine, as it is for serde_json.
        let mut r = JsonReader::new(&deep);
        assert!(r.skip_value().is_ok() && r.end().is_ok());
        // Objects and arrays alternating, past the 64 levels kept in a word.
        let mixed = |inner: &str| "{\"k\":[".repeat(50) + inner + &"]}".repeat(50);
        let fine = mixed("1, {\"x\": [true]}");
        let mut r = JsonReader::new(&fine);
        assert!(r.skip_value().is_ok() && r.end().is_ok());
        let unbalanced = mixed("1").replacen("]}", "}]", 1);
        for bad in [
            "[".repeat(70) + &"]".repeat(69),
            "[{\"a\":[1,{}],\"b\":2]}]".to_string(),
            unbalanced,
        ] {
            let mut r = JsonReader::new(&bad);
            assert!(r.skip_value().is_err() || r.end().is_err(), "{bad}");
        }
        let fine = "[".repeat(100) + &"]".repeat(100);
        assert!(read(&fine).is_some());
    }

    #[test]
    fn keys_are_recognised_in_place_or_decoded() {
        let probes: Vec<KeyProbe> = ["age", "country", "sessions_last_week", "a\"b", ""]
            .iter()
            .map(|k| KeyProbe::new(k))
            .collect();
        let text = r#"{"age":1, "agent":2, "ag":3, "\u0061ge":4, "country":5, "sessions_last_week":6,
            "sessions_last_weekend":7, "a\"b":8, "":9, "countr\u0079":10, "x":11, "sessions_last_wee":12}"#;
        let mut r = JsonReader::new(text);
        assert!(r.begin_object().unwrap());
        let mut seen = Vec::new();
        let mut first = true;
        while let Some(found) = r.next_key_among(first, &probes).unwrap() {
            first = false;
            r.skip_value().unwrap();
            seen.push(found);
        }
        r.close().unwrap();
        assert!(r.end().is_ok());
        let expected = [
            Some(0),
            None,
            None,
            Some(0),
            Some(1),
            Some(2),
            None,
            Some(3),
            Some(4),
            Some(1),
            None,
            None,
        ];
        assert_eq!(seen, expected);
        // Keys around the word boundaries (7, 8, 15 and 16 bytes, so the
        // quote falls last in a word or first in the next).
        let keys = ["abcdefg", "abcdefgh", "abcdefghijklmno", "abcdefghijklmnop"];
        let boundary: Vec<KeyProbe> = keys.iter().map(|k| KeyProbe::new(k)).collect();
        for (i, key) in keys.iter().enumerate() {
            for (text, expected) in [
                (
                    format!(r#"{{"{key}": 1, "pad": "xxxxxxxxxxxxxxxx"}}"#),
                    Some(i),
                ),
                (
                    format!(r#"{{"{key}x": 1, "pad": "xxxxxxxxxxxxxxxx"}}"#),
                    None,
                ),
                (
                    format!(r#"{{"{}": 1, "pad": "xxxxxxxxxxxxxxxx"}}"#, &key[1..]),
                    None,
                ),
            ] {
                let mut r = JsonReader::new(&text);
                assert!(r.begin_object().unwrap());
                assert_eq!(
                    r.next_key_among(true, &boundary).unwrap(),
                    Some(expected),
                    "{text}"
                );
            }
        }
        // Near the end of the text, with fewer than eight bytes left.
        let mut r = JsonReader::new(r#"{"age":1}"#);
        assert!(r.begin_object().unwrap());
        assert_eq!(r.next_key_among(true, &probes).unwrap(), Some(Some(0)));
    }

    #[test]
    fn skips_as_strictly_as_it_reads() {
        #[derive(Deserialize)]
        struct Only {
            #[allow(dead_code)]
            a: Option<i64>,
        }
        let skip = |text: &str| {
            let mut r = JsonReader::new(text);
            Only::deserialize(&mut r).is_ok() && r.end().is_ok()
        };
        assert!(skip(
            r#"{"b": {"x": [1, -2.5e3, "s\u00e9", true, null, {}]}, "a": 1}"#
        ));
        for bad in [
            r#"{"b": [1,], "a": 1}"#,
            r#"{"b": 01, "a": 1}"#,
            r#"{"b": "\x", "a": 1}"#,
            r#"{"b": {"x" 1}, "a": 1}"#,
            r#"{"b": tru, "a": 1}"#,
        ] {
            assert!(!skip(bad), "skipped {bad}");
            assert!(serde_json::from_str::<Json>(bad).is_err());
        }
    }
}
