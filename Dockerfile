# syntax=docker/dockerfile:1
#
# streamgauge as a container: a static binary (no cgo) on distroless, run
# as a non-root user. The Kubernetes example (examples/kubernetes) runs it
# as the workers of an Indexed Job and as the merge step.
#
#   docker build -t streamgauge:dev --build-arg VERSION=$(git describe --tags --always) .
#   docker run --rm streamgauge:dev run demo
#
# The build stage runs on the build host's platform and cross-compiles
# (TARGETOS/TARGETARCH come from buildx), so multi-arch images build fast.
# cmd/streamgauge/dockerfile_test.go builds the binary with this file's
# go build line and checks that it is static.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/streamgauge ./cmd/streamgauge

# distroless/static: CA certificates and tzdata, no shell, no package
# manager; the nonroot tag runs as uid/gid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/streamgauge /usr/local/bin/streamgauge
USER nonroot:nonroot
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/streamgauge"]
CMD ["--help"]
