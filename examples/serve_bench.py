"""Load test for an OpenAI-compatible server (`bitnet-tui serve`, `llama-server`, ...).

Streams chat completions from N concurrent clients and reports aggregate tokens/s, time to first
token and the time between tokens (p50/p99), measured at the client. With --soak it loops for a
while and reports errors and the server's resident memory (RSS) after warm-up and at the end.

    python examples/serve_bench.py --url http://127.0.0.1:8080/v1 --clients 1,4,8 --requests 3
    python examples/serve_bench.py --url http://127.0.0.1:8080/v1 --clients 4 --soak 600 --pid PID

Needs the `openai` package (pip install openai). Figures on a shared machine are noisy: run the
counts alternately, several times.
"""

import argparse
import asyncio
import statistics
import time
import urllib.request

import openai

PROMPTS = [
    "Explain how a bicycle stays upright.",
    "Write a short poem about the sea.",
    "List three uses of a paperclip.",
    "Why is the sky blue?",
    "Describe a city at night.",
    "What makes bread rise?",
    "Tell me about the moon.",
    "How do bees make honey?",
]


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def rss_mib(pid):
    """(total, anonymous) resident memory in MiB. The rest is the model file's pages: clean,
    shared with the page cache, and growing with each embedding row a new token reads."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", float("nan")), fields.get("RssAnon", float("nan"))


class Tally:
    def __init__(self):
        self.tokens = 0
        self.ttft = []
        self.gaps = []
        self.errors = 0


async def one_request(client, model, prompt, max_tokens, tally):
    started = time.perf_counter()
    last = None
    try:
        stream = await client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": prompt}],
            max_tokens=max_tokens,
            temperature=0.7,
            stream=True,
            stream_options={"include_usage": True},
        )
        counted, pieces = False, 0
        async for chunk in stream:
            if chunk.usage is not None:
                tally.tokens += chunk.usage.completion_tokens
                counted = True
            if chunk.choices and chunk.choices[0].delta.content:
                pieces += 1
                now = time.perf_counter()
                if last is None:
                    tally.ttft.append(now - started)
                else:
                    tally.gaps.append(now - last)
                last = now
        # A server without stream_options.include_usage sends one piece per token.
        if not counted:
            tally.tokens += pieces
    except openai.OpenAIError as e:
        tally.errors += 1
        print(f"error: {e}")


async def client_loop(client, model, index, max_tokens, tally, requests=None, until=None):
    n = 0
    while (requests is not None and n < requests) or (until is not None and time.perf_counter() < until):
        await one_request(client, model, PROMPTS[(index + n) % len(PROMPTS)], max_tokens, tally)
        n += 1


async def bench(client, model, clients, requests, max_tokens):
    tally = Tally()
    started = time.perf_counter()
    await asyncio.gather(*(client_loop(client, model, i, max_tokens, tally, requests=requests) for i in range(clients)))
    wall = time.perf_counter() - started
    ms = lambda s: s * 1e3  # noqa: E731
    print(
        f"{clients:2d} clients: {tally.tokens / wall:7.2f} tok/s aggregate ({tally.tokens} tokens in {wall:.1f} s) | "
        f"TTFT p50 {ms(percentile(tally.ttft, 50)):.0f} ms p99 {ms(percentile(tally.ttft, 99)):.0f} ms | "
        f"inter-token p50 {ms(percentile(tally.gaps, 50)):.0f} ms p99 {ms(percentile(tally.gaps, 99)):.0f} ms | "
        f"errors {tally.errors}",
        flush=True,
    )
    return tally.tokens / wall


def kv_cache_mib(metrics_url):
    """The server's `bitnet_kv_cache_bytes` gauge in MiB (NaN from a server without it)."""
    try:
        with urllib.request.urlopen(metrics_url, timeout=10) as response:
            for line in response.read().decode().splitlines():
                if line.startswith("bitnet_kv_cache_bytes "):
                    return float(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


async def soak(client, model, clients, seconds, max_tokens, pid, metrics_url):
    """Loops the clients for `seconds`; with a pid, samples the server's memory every 5 s after
    the warm-up and prints a line a minute. The KV caches' bytes come from /metrics: anonymous
    memory outside them is what must stay flat (the kept caches fill up to --cache-mb first)."""
    warm_up = min(60.0, seconds / 5)
    tally = Tally()
    start = time.perf_counter()
    until = start + seconds
    loops = asyncio.gather(*(client_loop(client, model, i, max_tokens, tally, until=until) for i in range(clients)))
    samples = []
    while time.perf_counter() < until:
        await asyncio.sleep(5)
        elapsed = time.perf_counter() - start
        if pid and elapsed >= warm_up:
            rss, anon = rss_mib(pid)
            kv = await asyncio.to_thread(kv_cache_mib, metrics_url)
            samples.append((rss, anon, kv, anon - kv))
            if len(samples) % 12 == 1:
                print(f"  {elapsed:5.0f} s: RSS {rss:.0f} MiB, anonymous {anon:.0f} MiB, KV caches {kv:.0f} MiB, "
                      f"anonymous outside them {anon - kv:.0f} MiB, {len(tally.ttft)} replies", flush=True)
    await loops
    print(f"soak: {clients} clients for {seconds:.0f} s, {tally.tokens} tokens, {len(tally.ttft)} replies, "
          f"errors {tally.errors}")
    names = ("RSS", "anonymous RSS", "KV caches", "anonymous RSS outside the KV caches")
    for column, name in enumerate(names):
        values = [sample[column] for sample in samples]
        if values and values[0] == values[0]:
            growth = (values[-1] - values[0]) / values[0] * 100 if values[0] else float("nan")
            print(f"{name} after warm-up {values[0]:.0f} MiB, at the end {values[-1]:.0f} MiB ({growth:+.1f}%), "
                  f"min {min(values):.0f} MiB, max {max(values):.0f} MiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080/v1")
    parser.add_argument("--api-key", default="unused")
    parser.add_argument("--model", help="default: the server's first model")
    parser.add_argument("--clients", default="1,4,8", help="comma-separated client counts, run in turn")
    parser.add_argument("--requests", type=int, default=2, help="requests per client per count")
    parser.add_argument("--rounds", type=int, default=1, help="times to run the whole list of counts")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--soak", type=float, help="loop for this many seconds instead")
    parser.add_argument("--pid", type=int, help="the server's process id, for its RSS during --soak")
    args = parser.parse_args()

    async def run():
        client = openai.AsyncOpenAI(base_url=args.url, api_key=args.api_key, max_retries=0, timeout=3600)
        model = args.model or (await client.models.list()).data[0].id
        counts = [int(c) for c in args.clients.split(",")]
        if args.soak:
            metrics_url = args.url.rstrip("/").removesuffix("/v1") + "/metrics"
            await soak(client, model, counts[0], args.soak, args.max_tokens, args.pid, metrics_url)
            return
        for _ in range(args.rounds):
            for count in counts:
                await bench(client, model, count, args.requests, args.max_tokens)

    asyncio.run(run())


if __name__ == "__main__":
    main()
