// Pins the stand-ins of deferDockerodeExtras.ts to the installed dockerode and docker-modem: an upgrade
// that loads ssh2 or gRPC another way (another path, or a use at require time) fails here, loudly,
// instead of quietly putting ~190 ms back on every engine command.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import test from 'node:test';
import { deferDockerodeExtras } from './deferDockerodeExtras.js';

const require = createRequire(import.meta.url);
const realModuleFiles = () => Object.keys(require.cache).filter((key) => /node_modules\/(ssh2|@grpc\/grpc-js|@grpc\/proto-loader|tar-fs)\//.test(key) && require.cache[key]?.loaded && !isStandIn(key));
let standIns: ReturnType<typeof deferDockerodeExtras> = [];
const isStandIn = (key: string) => standIns.some((m) => m.filename === key && !m.loaded());

test('dockerode loads without ssh2, gRPC and tar-fs; they load, for real, on first use', () => {
	standIns = deferDockerodeExtras();
	assert.deepEqual(
		standIns.map((m) => m.request),
		['ssh2', '@grpc/grpc-js', '@grpc/proto-loader', 'tar-fs'],
		'each deferred module resolves where dockerode and docker-modem require it',
	);
	const Dockerode = require('dockerode');
	const docker = new Dockerode({ socketPath: '/nonexistent/docker.sock' });
	assert.ok(docker.modem, 'a client is made');
	assert.deepEqual(realModuleFiles(), [], 'no real ssh2, gRPC or tar-fs file was loaded by requiring dockerode');
	for (const m of standIns) assert.equal(m.loaded(), false, `${m.request} stays deferred`);

	// first use, as dockerode's dependencies make it: docker-modem's `new Client()` for an ssh:// engine,
	// dockerode's `grpc.Server` for a BuildKit session
	const [ssh2, grpc, , tarFs] = standIns.map((m) => require(m.filename));
	const Client = ssh2.Client;
	const client = new Client();
	assert.equal(typeof client.connect, 'function', 'a real ssh2 Client');
	assert.equal(standIns[0]!.loaded(), true, 'ssh2 loaded on first use');
	assert.equal(client instanceof ssh2.Client, true, 'the real class from then on');
	assert.equal(typeof grpc.Server, 'function');
	assert.equal(standIns[1]!.loaded(), true, 'gRPC loaded on first use');
	// dockerode's util.js: `tar.pack(context, …)` for a build from a directory
	assert.equal(typeof tarFs.pack, 'function');
	assert.equal(standIns[3]!.loaded(), true, 'tar-fs loaded on first use');
});
