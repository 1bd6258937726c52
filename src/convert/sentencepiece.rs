//! A SentencePiece `tokenizer.model` (a `ModelProto` protobuf, as 1bitLLM's checkpoints ship it)
//! read into GGUF's SentencePiece vocabulary: pieces, scores and types, and whether a space is put
//! before the text (`normalizer_spec.add_dummy_prefix`).
//!
//! Only the fields used are decoded: `ModelProto.pieces` (1) with `piece` (1), `score` (2) and
//! `type` (3, numbered like GGUF's token types), and `ModelProto.normalizer_spec` (3) with
//! `add_dummy_prefix` (3). Anything else is skipped by its wire type.

use anyhow::{bail, Result};

/// One vocabulary entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub text: String,
    pub score: f32,
    /// GGUF / SentencePiece type: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    pub kind: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SentencePieceModel {
    pub pieces: Vec<Piece>,
    pub add_dummy_prefix: bool,
}

/// A protobuf field's value.
enum Field<'a> {
    Varint(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
    /// A 64-bit value, which no field read here has.
    Fixed64,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    what: &'a str,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.bytes.get(self.at) else { bail!("{}: truncated at byte {}", self.what, self.at) };
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        bail!("{}: a varint longer than 10 bytes at byte {}", self.what, self.at)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.bytes.len());
        let Some(end) = end else { bail!("{}: a field of {n} bytes at byte {} runs past the end", self.what, self.at) };
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    /// The next field, or None at the end.
    fn field(&mut self) -> Result<Option<(u64, Field<'a>)>> {
        if self.at >= self.bytes.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Field::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Field::Fixed64
            }
            2 => {
                let len = self.varint()? as usize;
                Field::Bytes(self.take(len)?)
            }
            5 => {
                let b = self.take(4)?;
                Field::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            other => {
                bail!("{}: wire type {other} at byte {} is not one a SentencePiece model uses", self.what, self.at)
            }
        };
        Ok(Some((key >> 3, value)))
    }
}

impl SentencePieceModel {
    /// Parses a `tokenizer.model`; `file` names it in errors.
    pub fn parse(bytes: &[u8], file: &str) -> Result<Self> {
        let mut model = Reader { bytes, at: 0, what: file };
        let (mut pieces, mut add_dummy_prefix) = (Vec::new(), true);
        while let Some((number, field)) = model.field()? {
            match (number, field) {
                (1, Field::Bytes(entry)) => pieces.push(parse_piece(entry, file, pieces.len())?),
                (3, Field::Bytes(spec)) => {
                    let mut normalizer = Reader { bytes: spec, at: 0, what: file };
                    while let Some((number, field)) = normalizer.field()? {
                        if let (3, Field::Varint(v)) = (number, field) {
                            add_dummy_prefix = v != 0;
                        }
                    }
                }
                _ => {}
            }
        }
        if pieces.is_empty() {
            bail!("{file}: no pieces; not a SentencePiece model");
        }
        Ok(Self { pieces, add_dummy_prefix })
    }
}

fn parse_piece(bytes: &[u8], file: &str, index: usize) -> Result<Piece> {
    let mut reader = Reader { bytes, at: 0, what: file };
    let mut piece = Piece { text: String::new(), score: 0.0, kind: 1 };
    while let Some((number, field)) = reader.field()? {
        match (number, field) {
            (1, Field::Bytes(text)) => match std::str::from_utf8(text) {
                Ok(text) => piece.text = text.to_owned(),
                Err(_) => bail!("{file}: pieces[{index}].piece is not UTF-8"),
            },
            (2, Field::Fixed32(bits)) => piece.score = f32::from_bits(bits),
            (3, Field::Varint(kind)) if (1..=6).contains(&kind) => piece.kind = kind as i32,
            (3, Field::Varint(kind)) => bail!("{file}: pieces[{index}].type is {kind}; types are 1 to 6"),
            _ => {}
        }
    }
    Ok(piece)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn bytes_field(number: u64, payload: &[u8], out: &mut Vec<u8>) {
        varint(number << 3 | 2, out);
        varint(payload.len() as u64, out);
        out.extend_from_slice(payload);
    }

    fn piece(text: &str, score: f32, kind: u64) -> Vec<u8> {
        let mut out = Vec::new();
        bytes_field(1, text.as_bytes(), &mut out);
        varint(2 << 3 | 5, &mut out);
        out.extend_from_slice(&score.to_le_bytes());
        varint(3 << 3, &mut out);
        varint(kind, &mut out);
        out
    }

    #[test]
    fn pieces_scores_types_and_the_dummy_prefix() {
        let mut model = Vec::new();
        bytes_field(1, &piece("<unk>", 0.0, 2), &mut model);
        bytes_field(1, &piece("▁the", -3.5, 1), &mut model);
        bytes_field(1, &piece("<0x0A>", 0.0, 6), &mut model);
        // A trainer spec to skip, then a normalizer spec without the dummy prefix.
        bytes_field(2, &[8, 1], &mut model);
        bytes_field(3, &[3 << 3, 0], &mut model);
        let parsed = SentencePieceModel::parse(&model, "tokenizer.model").unwrap();
        assert!(!parsed.add_dummy_prefix);
        assert_eq!(parsed.pieces[1], Piece { text: "▁the".into(), score: -3.5, kind: 1 });
        assert_eq!((parsed.pieces[0].kind, parsed.pieces[2].kind), (2, 6));
    }

    #[test]
    fn damaged_models_name_the_file() {
        let mut model = Vec::new();
        bytes_field(1, &piece("a", 0.0, 9), &mut model);
        let err = SentencePieceModel::parse(&model, "m/tokenizer.model").unwrap_err().to_string();
        assert!(err.contains("m/tokenizer.model") && err.contains("pieces[0].type"), "{err}");
        let err = SentencePieceModel::parse(&model[..model.len() - 3], "t.model").unwrap_err().to_string();
        assert!(err.contains("t.model") && err.contains("past the end"), "{err}");
        assert!(SentencePieceModel::parse(&[], "e.model").unwrap_err().to_string().contains("no pieces"));
    }
}
