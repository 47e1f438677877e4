"""The webhook receiver (`conveyor webhooks`): the shell around conveyor.triggers.

- cluster: the API calls (read a trigger and its Secret, list, create, revoke);
- receiver: one delivery, from request to answer;
- tallies: the trigger status writes, batched;
- server: the aiohttp application and its lifetime.
"""
