//! The hash a download is checked against: the etag the hub reports is the file's sha256 for LFS
//! files and its git blob sha1 (`sha1("blob <size>\0" + bytes)`) for files kept in git.

use sha1::Sha1;
use sha2::{Digest, Sha256};

pub(crate) enum Checksum {
    Sha256(Sha256),
    GitSha1(Sha1),
}

impl Checksum {
    /// The hasher matching `etag` (64 hex digits: sha256; otherwise git sha1 of `size` bytes).
    pub fn for_etag(etag: &str, size: u64) -> Self {
        if etag.len() == 64 {
            Checksum::Sha256(Sha256::new())
        } else {
            let mut sha1 = Sha1::new();
            sha1.update(format!("blob {size}\0").as_bytes());
            Checksum::GitSha1(sha1)
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Checksum::Sha256(h) => h.update(bytes),
            Checksum::GitSha1(h) => h.update(bytes),
        }
    }

    pub fn algorithm(&self) -> &'static str {
        match self {
            Checksum::Sha256(_) => "sha256",
            Checksum::GitSha1(_) => "git sha1",
        }
    }

    /// The digest in lowercase hex, comparable with the etag.
    pub fn finish(self) -> String {
        let bytes: Vec<u8> = match self {
            Checksum::Sha256(h) => h.finalize().to_vec(),
            Checksum::GitSha1(h) => h.finalize().to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        let mut sha = Checksum::for_etag(&"0".repeat(64), 3);
        sha.update(b"abc");
        assert_eq!(sha.finish(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        // `git hash-object` of a file holding "hello\n".
        let mut git = Checksum::for_etag(&"0".repeat(40), 6);
        git.update(b"hello\n");
        assert_eq!(git.finish(), "ce013625030ba8dba906f756967f9e9ca394464a");
    }
}
