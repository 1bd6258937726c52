"""Writes corpus.json: prose in many scripts, code, numbers, punctuation runs and whitespace, each
also with a leading space and a trailing newline (the cases where pre-tokenizers differ most)."""

import json
import pathlib

BASE = [
    "Hello, world!", "It's a dog's life, isn't it? We'll see; they'd know.", "I'm here—you're there.",
    "The quick brown fox jumps over the lazy dog.", "Wait... what?!", "Really?!?! No way!!!",
    "Bonjour, ça va ? Très bien, merci !", "Größe, Übermaß und Straße: 3 Beispiele.",
    "¿Dónde está la biblioteca? ¡Aquí!", "Привет, мир! Как дела? 123 рубля.", "Καλημέρα κόσμε· τι κάνεις;",
    "مرحبا بالعالم! ١٢٣ كتاب.", "שלום עולם, מה שלומך?", "नमस्ते दुनिया! २०२४ में।", "你好，世界！今天是2024年5月3日。",
    "日本語のテキスト、カタカナとひらがな。「引用」です。", "안녕하세요, 세계! 3개의 사과.", "สวัสดีชาวโลก ๑๒๓",
    "Xin chào thế giới! Tiếng Việt có dấu.", "Merhaba dünya; İstanbul'da 15 °C.", "Zażółć gęślą jaźń — 100%.",
    "Emoji: 😀🎉👍🏽 and flags 🇫🇷🇯🇵!", "Math: ∑ x² ≤ ∞, π ≈ 3.14159, √2 ≈ 1.41421.",
    "def add(a, b):\n    return a + b\n", "fn main() {\n    println!(\"{}\", 1 + 2);\n}\n",
    "const x = (a, b) => a ?? b || c && d;", "if (x <= 10 && y >= 20) { z += 1; } else { z -= 2; }",
    "for (int i = 0; i < n; ++i) printf(\"%d\\n\", i);", "SELECT name, COUNT(*) FROM users WHERE age > 30 GROUP BY name;",
    "<div class=\"main\"><p>Hello</p></div>", "{\"key\": [1, 2.5, -3e10], \"ok\": true, \"s\": \"a\\\"b\"}",
    "$ ls -la | grep '.rs' > out.txt && echo $?", "x = re.compile(r'^[a-z]+\\d{2,}$')", "a->b; c::d; e=>f; g|>h; i<-j",
    "#include <stdio.h>\n#define MAX(a,b) ((a)>(b)?(a):(b))", "// TODO: fix this!!! /* and this */",
    "user@example.com, https://example.org/path?q=1&r=2#frag", "@mention #hashtag $TICKER ^caret ~tilde `tick`",
    "Phone: +1 (555) 123-4567, ext. 89", "Dates: 2024-05-03, 03/05/2024, 3.5.2024", "Version v1.2.3-beta+build.45",
    "1,000,000 and 1.000.000 and 1 000 000", "12345678901234567890", "0.000001 and 6.02e23 and -42",
    "3+4=7; 10-2=8; 6*7=42; 9/3=3; 2^10=1024", "100% of 50% is 25%.", "$19.99 + €5,00 = £24.99?",
    "Tabs\tbetween\twords", "Many     spaces   here", "Trailing spaces   ", "   Leading spaces",
    "Line one\nLine two\n\nLine four", "Windows\r\nline\r\nendings", "Mixed \t\n whitespace \n\t ",
    "Quotes: \"double\", 'single', «guillemets», „German“, 「Japanese」", "Dashes: - – — ― and ellipsis …",
    "Brackets: ( [ { < > } ] )", "Ampersand & asterisk * underscore _ hash #", "a.b.c.d", "...leading dots",
    "!!!", "???", "?!?!", "--", "==>", "<<=", "$$$", "~~~", "|||", "```python", "...", ".,;:!?", "(((nested)))",
    "don't", "DON'T", "O'Reilly's", "rock'n'roll", "'quoted'", "it's 5 o'clock", "'s 't 're 've 'm 'll 'd",
    "CamelCaseIdentifier", "snake_case_identifier", "kebab-case-identifier", "SCREAMING_SNAKE_CASE", "__dunder__",
    "a1b2c3", "abc123def456", "x86_64", "utf-8", "H2O and CO2", "4K 60fps HDR10+", "COVID-19", "Windows 11 Pro",
    "naïve café résumé coöperate", "Ångström Ørsted Ægir", "ﬁ ligature and ｆｕｌｌｗｉｄｔｈ", "Zero\u200bwidth\u200bspace",
    "Combining: e\u0301 a\u0308 n\u0303", "Superscripts ¹²³ and fractions ½ ¼ ¾", "Roman Ⅻ and circled ①②③",
    "Arabic-Indic ٠١٢٣٤٥٦٧٨٩ and Devanagari ०१२३", "Thai ๑๒๓ Khmer ១២៣", "Chinese numerals 一二三 and 壹贰叁",
]
MORE = [
    "A sentence with a number 42 in the middle.", "Call me at 555-0199 after 6pm.",
    "Score: 3-2 (after extra time).", "Temperature: -40°C = -40°F.", "Room 101, floor 7, building B2.",
]


def main():
    base = BASE + MORE
    corpus = []
    for s in base:
        corpus.append(s)
        corpus.append(" " + s)
        corpus.append(s + "\n")
    assert len(corpus) >= 200, len(corpus)
    path = pathlib.Path(__file__).parent / "corpus.json"
    path.write_text(json.dumps(corpus, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(len(corpus), "strings")


if __name__ == "__main__":
    main()
