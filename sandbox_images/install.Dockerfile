# The install stage of every image with `requirements` in its image.toml: the
# builder puts it before that image's own Dockerfile (both are in the image's
# content hash). Built with --network none: the pinned wheels were downloaded
# on the host for the parent's Python. The wheels stay in this stage, so they
# add nothing to the image, which takes /opt/venv with COPY --from=install.
ARG PARENT
FROM ${PARENT} AS install
USER root
COPY wheels /tmp/wheels
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-index --find-links /tmp/wheels --no-cache-dir \
      --require-virtualenv -r /tmp/requirements.txt \
 && /opt/venv/bin/pip check
