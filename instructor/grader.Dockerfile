# An image for grading untrusted submissions (see instructor/README.md, "Security").
# Build from the repository root:  docker build -f instructor/grader.Dockerfile -t dsai-grader .
# The container is the sandbox (bubblewrap rarely gets namespaces inside one): run
# `grade ... --trusted` with --network none, --memory, --pids-limit, submissions read-only.
FROM python:3.11-slim
WORKDIR /course
COPY pyproject.toml README.md ./
COPY dsai ./dsai
COPY instructor/source ./instructor/source
RUN pip install --no-cache-dir . \
 && python -m ipykernel install --sys-prefix --name python3
# Run as whatever --user is given; Jupyter needs a writable home for its runtime files.
ENV HOME=/tmp
ENTRYPOINT ["dsai"]
