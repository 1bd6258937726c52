"""Chat with `bitnet-tui serve` through the official OpenAI Python SDK.

    bitnet-tui serve --model SmolLM2-135M-Instruct.Q4_1.gguf &
    pip install openai
    python examples/openai_client.py "What is 2+2?"

Any OpenAI client works the same way: point its base URL at http://127.0.0.1:8080/v1; the API key
is ignored unless the server was started with --api-key.
"""

import sys

from openai import OpenAI

client = OpenAI(base_url="http://127.0.0.1:8080/v1", api_key="unused")
model = client.models.list().data[0].id
question = sys.argv[1] if len(sys.argv) > 1 else "Why is the sky blue?"

# A streamed reply, printed as it arrives.
stream = client.chat.completions.create(
    model=model,
    messages=[{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": question}],
    temperature=0.7,
    seed=42,
    max_tokens=256,
    stream=True,
    stream_options={"include_usage": True},
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)
    if chunk.usage:
        print(f"\n[{chunk.usage.prompt_tokens} prompt tokens, {chunk.usage.completion_tokens} generated]")

# A plain completion with the log-probabilities of each token and its two closest alternatives.
completion = client.completions.create(model=model, prompt="The capital of France is", max_tokens=5, logprobs=2)
choice = completion.choices[0]
print(repr(choice.text), choice.finish_reason)
for token, logprob, top in zip(choice.logprobs.tokens, choice.logprobs.token_logprobs, choice.logprobs.top_logprobs):
    print(f"{token!r:>12} {logprob:7.3f}  {top}")
