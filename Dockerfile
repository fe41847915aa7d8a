# planrun as a container image: a static binary on distroless, run as a
# non-root user. Build it from the repository root:
#
#   docker build -t planrun:latest --build-arg VERSION=$(git describe --tags --always --dirty) .
#
# The image has no PostgreSQL server binaries, so planrun's embedded default
# (a throwaway local server when target.url / DATABASE_URL is empty) does not
# work in it: run it against a server named by the plan's target.url, e.g.
# through DATABASE_URL. deploy/kubernetes runs it as an Indexed Job.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/planrun ./cmd/planrun

# busybox's static shell, for the `sh -c` of the Kubernetes Job (the segment
# number is JOB_COMPLETION_INDEX + 1, and the merge takes a glob): the only
# thing in the image besides planrun and distroless' CA certificates, time
# zones and passwd entry for nonroot.
FROM busybox:1.37-musl AS shell

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=shell /bin/busybox /bin/sh
COPY --from=build /out/planrun /usr/local/bin/planrun
# nonroot (65532:65532) in distroless; numeric so that Kubernetes'
# runAsNonRoot can check it.
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/planrun"]
CMD ["help"]
