"""Drives a running `bitnet-tui serve` with the official `openai` SDK for tests/serve_openai.rs.

Usage: serve_openai_client.py BASE_URL SCENARIO [ARG]
Prints one JSON object of what the server answered; the Rust test makes the assertions.
"""

import asyncio
import json
import sys

import openai

QUESTION = [{"role": "user", "content": "What is 2+2?"}]


def chat_text(response):
    return response.choices[0].message.content


def basic(client):
    """Each endpoint and option once, on the first (only) model."""
    out = {}
    models = client.models.list()
    out["models"] = [m.id for m in models.data]
    model = out["models"][0]

    plain = client.chat.completions.create(model=model, messages=QUESTION, temperature=0, max_tokens=48)
    out["chat"] = {
        "text": chat_text(plain),
        "finish_reason": plain.choices[0].finish_reason,
        "usage": plain.usage.model_dump(),
        "object": plain.object,
        "id": plain.id,
    }

    pieces, roles, finish, usage = [], [], None, None
    stream = client.chat.completions.create(
        model=model,
        messages=QUESTION,
        temperature=0,
        max_tokens=48,
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage.model_dump()
        for choice in chunk.choices:
            if choice.delta.role:
                roles.append(choice.delta.role)
            if choice.delta.content:
                pieces.append(choice.delta.content)
            if choice.finish_reason:
                finish = choice.finish_reason
    out["stream"] = {"pieces": pieces, "roles": roles, "finish_reason": finish, "usage": usage}

    completion = client.completions.create(
        model=model, prompt="The capital of France is", temperature=0, max_tokens=12, logprobs=2
    )
    choice = completion.choices[0]
    out["completion"] = {
        "text": choice.text,
        "finish_reason": choice.finish_reason,
        "usage": completion.usage.model_dump(),
        "logprob_tokens": choice.logprobs.tokens,
    }

    # A stop string taken from the middle of the greedy reply.
    stop = out["chat"]["text"][len(out["chat"]["text"]) // 2 :][:3]
    stopped = client.chat.completions.create(
        model=model, messages=QUESTION, temperature=0, max_tokens=48, stop=[stop, "never-seen"]
    )
    out["stop"] = {"stop": stop, "text": chat_text(stopped), "finish_reason": stopped.choices[0].finish_reason}
    stream = client.chat.completions.create(
        model=model, messages=QUESTION, temperature=0, max_tokens=48, stop=stop, stream=True
    )
    out["stop"]["stream_text"] = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    seeded = [
        chat_text(
            client.chat.completions.create(
                model=model,
                messages=[{"role": "user", "content": "Tell me a story about a cat."}],
                temperature=1.0,
                seed=seed,
                max_tokens=24,
            )
        )
        for seed in (1234, 1234, 99)
    ]
    out["seeded"] = seeded

    with_logprobs = client.chat.completions.create(
        model=model, messages=QUESTION, temperature=0, max_tokens=8, logprobs=True, top_logprobs=3
    )
    out["logprobs"] = {
        "text": chat_text(with_logprobs),
        "content": [
            {
                "token": entry.token,
                "logprob": entry.logprob,
                "top": [[t.token, t.logprob] for t in entry.top_logprobs],
            }
            for entry in with_logprobs.choices[0].logprobs.content
        ],
    }

    try:
        client.chat.completions.create(model="no-such-model", messages=QUESTION)
        out["unknown_model"] = None
    except openai.NotFoundError as e:
        out["unknown_model"] = {"status": e.status_code, "body": e.body}
    return out


async def concurrent(client, arg):
    """Streams every prompt, all at once or one after another; returns each text."""

    async def one(prompt):
        stream = await client.chat.completions.create(
            model=(await client.models.list()).data[0].id,
            messages=[{"role": "user", "content": prompt}],
            temperature=0,
            max_tokens=16,
            stream=True,
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    if arg["at_once"]:
        return {"texts": await asyncio.gather(*(one(p) for p in arg["prompts"]))}
    return {"texts": [await one(p) for p in arg["prompts"]]}


async def disconnect(client, count):
    """`count` streams that read two chunks each and then close the connection."""

    async def one(i):
        stream = await client.chat.completions.create(
            model=(await client.models.list()).data[0].id,
            messages=[{"role": "user", "content": f"Count slowly from {i} to 500, one number per line."}],
            temperature=0,
            max_tokens=400,
            stream=True,
        )
        seen = 0
        async for _ in stream:
            seen += 1
            if seen == 2:
                break
        await stream.close()
        return seen

    return {"read": await asyncio.gather(*(one(i) for i in range(count)))}


def main():
    base_url, scenario = sys.argv[1], sys.argv[2]
    arg = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    if scenario == "basic":
        result = basic(openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0))
    else:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=300)
        run = {"concurrent": concurrent, "disconnect": disconnect}[scenario]
        result = asyncio.run(run(client, arg))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
