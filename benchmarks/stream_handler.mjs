// The stream handler for Node's runtime interface client (aws-lambda-ric):
// the same bytes as handlers.stream in handlers.py, written as Lambda's docs
// write a streaming function (awslambda.streamifyResponse), waiting for
// "drain" when the stream asks to, as stream.pipeline would. The first chunk
// starts with CLOCK_MONOTONIC in nanoseconds (process.hrtime.bigint reads it
// on Linux), 20 digits, read just before it is written.
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const chunk = Buffer.alloc(event.size, "x");
  const first = Buffer.alloc(event.size, "x");
  first.write(process.hrtime.bigint().toString().padStart(20, "0"), "latin1");
  for (let i = 0; i < event.chunks; i++) {
    if (!responseStream.write(i === 0 ? first : chunk)) {
      await new Promise((resolve) => responseStream.once("drain", resolve));
    }
  }
  responseStream.end();
});
