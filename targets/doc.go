// Package targets speaks to inference servers. It owns the Protocol interface
// (one implementation per wire API, in sub-packages), the shared SSE and
// NDJSON frame readers, and the timed streaming Client that stamps every frame
// with the monotonic clock the moment it is fully read from the socket.
//
// It reports what happened on the wire (a Response) and computes no
// statistics: turning a Response into a record is the caller's job.
package targets
