"""The voice-agent ingress: the native post-call webhook (DESIGN.md 6.3) and the Vapi, Retell and
ElevenLabs mappers onto it. Verify, parse, de-duplicate, enqueue: the worker (app/calls) writes."""
