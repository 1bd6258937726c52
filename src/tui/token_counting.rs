//! The loop's side of token counts: a thread that counts what `Effect::CountTokens` asks, so
//! that a long draft never holds up a keystroke. Drafts typed faster than they are counted are
//! skipped to the latest.

use std::sync::mpsc::{channel, Receiver, Sender};

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::app::msg::{text_hash, TokenCount, TokenJob};
use crate::engine::token_counter::TokenCounter;

/// Sends jobs to the counting thread; the answers arrive on the receiver [`TokenCounting::start`]
/// returns. The thread ends when this is dropped.
pub struct TokenCounting {
    jobs: Sender<(TokenCounter, TokenJob)>,
}

impl TokenCounting {
    pub fn start() -> std::io::Result<(Self, UnboundedReceiver<TokenCount>)> {
        let (jobs, waiting) = channel();
        let (counted, answers) = unbounded_channel();
        std::thread::Builder::new().name("bitnet-token-count".into()).spawn(move || run(&waiting, &counted))?;
        Ok((Self { jobs }, answers))
    }

    pub fn count(&self, counter: TokenCounter, job: TokenJob) {
        // The thread ends only with the channel; a send cannot fail before.
        let _ = self.jobs.send((counter, job));
    }
}

fn run(waiting: &Receiver<(TokenCounter, TokenJob)>, counted: &UnboundedSender<TokenCount>) {
    while let Ok(first) = waiting.recv() {
        let mut batch = vec![first];
        batch.extend(waiting.try_iter());
        let last_draft = batch.iter().rposition(|(_, job)| matches!(job, TokenJob::Draft(_)));
        for (i, (counter, job)) in batch.into_iter().enumerate() {
            let answer = match job {
                TokenJob::Draft(_) if Some(i) != last_draft => continue,
                TokenJob::Draft(text) => TokenCount::Draft(counter.count(&text)),
                TokenJob::Messages { id, texts } => {
                    let counts = texts.iter().map(|(index, text)| (*index, text_hash(text), counter.count(text)));
                    TokenCount::Messages { id, counts: counts.collect() }
                }
            };
            if counted.send(answer).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_drafts_and_messages() {
        let (counting, mut answers) = TokenCounting::start().unwrap();
        let words = TokenCounter::new(|text| text.split_whitespace().count());
        counting.count(words.clone(), TokenJob::Draft("one two three".into()));
        assert_eq!(answers.blocking_recv(), Some(TokenCount::Draft(3)));
        let texts = vec![(0, "a b".to_string()), (2, "c".to_string())];
        counting.count(words, TokenJob::Messages { id: "x".into(), texts });
        let expected = vec![(0, text_hash("a b"), 2), (2, text_hash("c"), 1)];
        assert_eq!(answers.blocking_recv(), Some(TokenCount::Messages { id: "x".into(), counts: expected }));
        drop(counting);
        assert_eq!(answers.blocking_recv(), None, "the thread ends with the sender");
    }
}
