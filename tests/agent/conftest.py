from tests.agent.fakes import fake_api

__all__ = ["fake_api"]
