// The stream handler for Node's runtime interface client (aws-lambda-ric):
// the same bytes as handlers.stream in handlers.py, written as Lambda's docs
// write a streaming function (awslambda.streamifyResponse), waiting for
// "drain" when the stream asks to, as stream.pipeline would. The first chunk
// starts with CLOCK_MONOTONIC in nanoseconds (process.hrtime.bigint reads it
// on Linux), 20 digits, read just before it is written. A function URL's
// event (payload format 2.0) carries the spec as its body, and the answer is
// an HTTP response (awslambda.HttpResponseStream, as ric.HttpStream's prelude).
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  let spec = event;
  let stream = responseStream;
  if (event.requestContext) {
    spec = JSON.parse(event.body);
    const prelude = { statusCode: 200, headers: {}, cookies: [] };
    stream = awslambda.HttpResponseStream.from(responseStream, prelude);
  }
  const chunk = Buffer.alloc(spec.size, "x");
  const first = Buffer.alloc(spec.size, "x");
  first.write(process.hrtime.bigint().toString().padStart(20, "0"), "latin1");
  for (let i = 0; i < spec.chunks; i++) {
    if (!stream.write(i === 0 ? first : chunk)) {
      await new Promise((resolve) => stream.once("drain", resolve));
    }
  }
  stream.end();
});
