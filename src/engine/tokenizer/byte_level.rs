//! GPT-2's byte-level alphabet: every byte is written as one printable character, so byte-level
//! BPE vocabularies can be stored as strings. Printable bytes (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) stand
//! for themselves; the other 68 byte values map to U+0100, U+0101, … in byte order (space = `Ġ`,
//! newline = `Ċ`).

const fn is_printable(b: u8) -> bool {
    matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF)
}

/// The 68 non-printable bytes in order: the byte that U+0100 + i stands for.
const SHIFTED_BYTES: [u8; 68] = {
    let mut table = [0u8; 68];
    let mut n = 0;
    let mut b = 0usize;
    while b < 256 {
        if !is_printable(b as u8) {
            table[n] = b as u8;
            n += 1;
        }
        b += 1;
    }
    table
};

const BYTE_TO_CHAR: [char; 256] = {
    let mut table = ['\0'; 256];
    let mut n = 0u32;
    let mut b = 0usize;
    while b < 256 {
        table[b] = if is_printable(b as u8) {
            b as u8 as char
        } else {
            n += 1;
            match char::from_u32(0x100 + n - 1) {
                Some(c) => c,
                None => '\0',
            }
        };
        b += 1;
    }
    table
};

/// The character that stands for `byte`.
pub fn byte_to_char(byte: u8) -> char {
    BYTE_TO_CHAR[usize::from(byte)]
}

/// The byte that `c` stands for, if `c` belongs to the alphabet.
pub fn char_to_byte(c: char) -> Option<u8> {
    let code = u32::from(c);
    match u8::try_from(code) {
        Ok(b) if is_printable(b) => Some(b),
        Ok(_) => None,
        Err(_) => code.checked_sub(0x100).and_then(|i| SHIFTED_BYTES.get(i as usize).copied()),
    }
}

/// Raw bytes written in the byte-level alphabet.
pub fn encode_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| byte_to_char(b)).collect()
}

/// The raw bytes of a byte-level token text. A character outside the alphabet (which a
/// well-formed vocabulary never has) is kept as its own UTF-8 bytes rather than lost.
pub fn decode_text(text: &str, out: &mut Vec<u8>) {
    for c in text.chars() {
        match char_to_byte(c) {
            Some(b) => out.push(b),
            None => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_characters() {
        assert_eq!(byte_to_char(b' '), 'Ġ');
        assert_eq!(byte_to_char(b'\n'), 'Ċ');
        assert_eq!(byte_to_char(0), '\u{100}');
        assert_eq!(byte_to_char(b'A'), 'A');
        assert_eq!(byte_to_char(0xAD), 'Ń');
    }

    #[test]
    fn every_byte_round_trips_through_a_distinct_char() {
        let all: Vec<u8> = (0..=255).collect();
        let text = encode_bytes(&all);
        assert_eq!(text.chars().count(), 256);
        let mut back = Vec::new();
        decode_text(&text, &mut back);
        assert_eq!(back, all);
    }

    #[test]
    fn foreign_characters_keep_their_utf8() {
        let mut out = Vec::new();
        decode_text("ĠxЖ", &mut out);
        assert_eq!(out, b" x\xd0\x96");
    }
}
