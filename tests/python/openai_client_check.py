"""The official `openai` Python client against the gateway's OpenAI-compatible API.

Run by the end-to-end test `openai_python` with OPENAI_BASE_URL (the gateway's
`/v1`) and OPENAI_API_KEY (an `aos_` API key) set. Checks the model list, a
non-streamed and a streamed completion (text, finish reason, usage and the
`aos` extension field), and that errors arrive as the client's typed errors.
Exits non-zero, naming the failed check, when anything is off.
"""

import os
import sys

import openai
from openai import OpenAI

QUESTION = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "hello, what can you do?"},
]


def extension(obj):
    """The `aos` field the gateway adds beside OpenAI's own fields."""
    extra = obj.model_extra or {}
    return extra.get("aos")


def check_models(client):
    ids = [model.id for model in client.models.list()]
    assert ids == ["aos-auto", "aos-cto", "aos-cro", "aos-coo", "aos-cfo"], ids


def check_completion(client):
    completion = client.chat.completions.create(model="aos-cfo", messages=QUESTION)
    assert completion.object == "chat.completion", completion
    assert completion.id.startswith("chatcmpl-"), completion.id
    assert completion.model == "aos-cfo", completion.model
    choice = completion.choices[0]
    assert choice.message.role == "assistant", choice
    assert choice.message.content and choice.message.content.strip(), choice
    assert choice.finish_reason == "stop", choice.finish_reason
    assert completion.usage is not None, completion
    aos = extension(completion)
    assert aos is not None, completion
    assert aos["classification"]["persona"] == "cfo", aos
    assert aos["classification"]["intent"], aos
    assert aos["conversation_id"] and aos["message_id"], aos
    return choice.message.content


def check_stream(client):
    stream = client.chat.completions.create(
        model="aos-cfo",
        messages=QUESTION,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, finish, events = [], None, []
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk", chunk
        if chunk.choices:
            choice = chunk.choices[0]
            if choice.delta.content:
                pieces.append(choice.delta.content)
            finish = choice.finish_reason or finish
        aos = extension(chunk)
        if aos is not None:
            events.append(aos)
    text = "".join(pieces)
    assert text.strip(), "the streamed deltas are empty"
    assert finish == "stop", finish
    kinds = [event.get("type") for event in events]
    assert "classification" in kinds, kinds
    assert kinds[-1] == "message.end", kinds
    return text


def check_errors(client, base_url):
    try:
        client.chat.completions.create(model="gpt-4", messages=QUESTION)
        raise AssertionError("an unknown model was accepted")
    except openai.UnprocessableEntityError as err:
        assert err.status_code == 422, err
    stranger = OpenAI(base_url=base_url, api_key="aos_not-a-real-key", max_retries=0)
    try:
        stranger.models.list()
        raise AssertionError("a made-up key was accepted")
    except openai.AuthenticationError as err:
        assert err.status_code == 401, err


def main():
    base_url = os.environ["OPENAI_BASE_URL"]
    client = OpenAI(max_retries=0, timeout=30.0)
    check_models(client)
    answer = check_completion(client)
    streamed = check_stream(client)
    check_errors(client, base_url)
    print(f"openai {openai.__version__}: ok ({len(answer)} and {len(streamed)} characters)")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as err:
        print(f"check failed: {err!r}", file=sys.stderr)
        raise
