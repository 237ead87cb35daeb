import pytest

from worksample.catalog.spec import parse_size as task_size
from worksample.errors import UsageError
from worksample.sandbox.spec import parse_size as sandbox_size
from worksample.units import size_bytes


@pytest.mark.parametrize("text,expected", [("512m", 512 * 1024**2), ("2g", 2 * 1024**3), ("1024", 1024),
                                           ("1.5k", 1536), ("64MiB", 64 * 1024**2), ("2 GB", 2 * 1024**3)])
def test_task_files_and_the_sandbox_cli_read_sizes_alike(text, expected):
    assert size_bytes(text) == task_size(text) == sandbox_size(text, "memory") == expected


@pytest.mark.parametrize("text", ["lots", "", "-1m", "2x", "m"])
def test_nonsense_is_refused_in_each_place_with_its_own_message(text):
    with pytest.raises(ValueError, match="is not a size"):
        size_bytes(text)
    with pytest.raises(ValueError, match="is not a size like 2g or 512m"):
        task_size(text)
    with pytest.raises(UsageError, match="memory: .* is not a size"):
        sandbox_size(text, "memory")
