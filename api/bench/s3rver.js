// Starts s3rver (an S3-protocol server on Node.js, from the npm registry) for the upload benchmark
// (api/bench/run.sh with BENCH_S3_SERVER=s3rver): on 127.0.0.1, with the benchmark's access key and
// its bucket. s3rver parses SigV4 headers but does not check the signature, as s3s-fs started
// without keys: the figure measures Faxline's S3 backend with a server that is not the bottleneck.
// Usage: NODE_PATH=<dir with s3rver> node api/bench/s3rver.js PORT DIR ACCESS_KEY SECRET_KEY BUCKET
'use strict';
const S3rver = require('s3rver');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');

const [port, directory, accessKey, secretKey, bucket] = process.argv.slice(2);
DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey);
new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
})
  .run()
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
