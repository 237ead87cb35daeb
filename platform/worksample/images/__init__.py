"""Sandbox images: built offline, tagged by a content hash of their inputs.

Other parts of the platform use two functions:

- `image_ref(name)`: the exact tag (`worksample/notebook:<hash12>`) the current
  inputs produce; no Docker call, cheap to call often.
- `require(name, client=None)`: that tag if the engine has the image, else
  `ImageMissing` saying what to run.
"""

from __future__ import annotations

from worksample.errors import ImageMissing
from worksample.images.refs import cached_ref
from worksample.images.specs import Layout

__all__ = ["ImageMissing", "image_ref", "require"]


def image_ref(name: str, *, layout: Layout | None = None) -> str:
    """The tag of image `name` for the current inputs, e.g. `worksample/notebook:3f2a9c1d0b7e`.

    `layout` points at another images folder or prefix (tests); default the
    checkout's `sandbox_images/`. Raises ImageSpecError (a WorksampleError)
    for an unknown or malformed image.
    """
    return cached_ref(layout or Layout.default(), name)


def require(name: str, client=None, *, layout: Layout | None = None) -> str:
    """The tag of image `name`, checked to exist in the Docker engine.

    `client` is a docker.DockerClient (one is made when omitted). Raises
    ImageMissing when the image is not built, DockerUnavailable when the
    engine does not answer.
    """
    from worksample.images import engine  # keeps `import worksample.images` free of docker

    ref = image_ref(name, layout=layout)
    own = engine.connect(client)
    try:
        if not engine.image_exists(own, ref):
            raise ImageMissing(f"image {ref} is not built; run `worksample images build`")
    finally:
        if client is None:
            own.close()
    return ref
