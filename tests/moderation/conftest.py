from tests.discussion.conftest import (  # noqa: F401  (fixtures shared with the discussion tests)
    _fresh_cache,
    article,
    lenient_policy,
    moderator,
    moderator_client,
    other_reader,
    reader,
    reader_client,
)
