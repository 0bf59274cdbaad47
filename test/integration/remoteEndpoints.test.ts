// The ways stigmer connects to a remote engine, against the remote test host (scripts/engines/remote.sh,
// run by scripts/test-remote.sh, which sets STIGMER_REMOTE_*): ssh:// with the user's ssh config, the
// errors a user gets from ssh with their fix, tcp+TLS from DOCKER_CERT_PATH and from a docker context,
// and no ssh process left behind. Skipped when no remote test host is given.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';

const sshHost = process.env.STIGMER_REMOTE_SSH;
const tlsHost = process.env.STIGMER_REMOTE_TLS;
const certPath = process.env.STIGMER_REMOTE_CERT_PATH;
const skip = !sshHost || !tlsHost || !certPath ? 'no remote test host (scripts/test-remote.sh provisions one)' : false;

/** An environment with only this engine chosen: the caller's DOCKER_* unset (undefined: left out by spawn). */
function engineEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
	const unset = Object.fromEntries(['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_TLS', 'DOCKER_CERT_PATH'].map((key) => [key, undefined]));
	return { ...unset, ...settings };
}

/** Processes (pids) whose environment holds `mark=1`: the children of one CLI run, reparented or not. */
function markedProcesses(mark: string): number[] {
	const found: number[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
		try {
			if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`${mark}=1`)) found.push(Number(entry));
		} catch {
			// gone, or not ours to read
		}
	}
	return found;
}

async function noneLeft(mark: string): Promise<number[]> {
	const deadline = Date.now() + 5000;
	let left = markedProcesses(mark);
	while (left.length > 0 && Date.now() < deadline) {
		await new Promise((r) => setTimeout(r, 50));
		left = markedProcesses(mark);
	}
	return left;
}

test('ssh://: status and doctor reach the engine through ssh, and leave no ssh process behind', { skip }, async () => {
	for (const multiplex of ['1', '0']) {
		const mark = `STIGMER_TEST_MARK_${randomBytes(4).toString('hex')}`;
		const env = engineEnv({ DOCKER_HOST: sshHost!, STIGMER_SSH_MULTIPLEX: multiplex, [mark]: '1' });
		const status = await runCli(['server', 'status', '--json'], { env, timeoutMs: 60_000 });
		assert.equal(status.code, 0, status.stderr);
		const engine = JSON.parse(status.stdout).engine;
		assert.deepEqual([engine.reachable, engine.endpoint], [true, sshHost]);
		const doctor = await runCli(['doctor'], { env, timeoutMs: 60_000 });
		assert.match(doctor.stdout, new RegExp(`engine +Docker Engine \\S+ at ${sshHost!.replace(/[/.]/g, '\\$&')} \\(remote`), doctor.stdout + doctor.stderr);
		assert.deepEqual(await noneLeft(mark), [], `ssh processes left after the commands (STIGMER_SSH_MULTIPLEX=${multiplex})`);
	}
});

test('ssh://: what ssh or the remote said, with the fix, exit 3, no stack trace', { skip }, async () => {
	const cases: Array<[string, RegExp, RegExp]> = [
		['unknown-key', /Host key verification failed/, /accept it once/],
		['refused', /Permission denied \(publickey\)/, /ssh-copy-id/],
		['no-docker', /docker: not found/, /install the docker CLI/],
		['no-socket', /docker\.sock: connect: permission denied/, /usermod -aG docker/],
	];
	const host = sshHost!.replace(/^ssh:\/\//, '');
	for (const [alias, said, fix] of cases) {
		{
			const mark = `STIGMER_TEST_MARK_${randomBytes(4).toString('hex')}`;
			const result = await runCli(['doctor'], { env: engineEnv({ DOCKER_HOST: `ssh://${host}-${alias}`, [mark]: '1' }), timeoutMs: 60_000 });
			const out = result.stdout + result.stderr;
			assert.match(out, said, alias);
			assert.match(out, fix, alias);
			assert.doesNotMatch(out, /\n\s+at /, `${alias}: no stack trace`);
			const status = await runCli(['server', 'status'], { env: engineEnv({ DOCKER_HOST: `ssh://${host}-${alias}`, [mark]: '1' }), timeoutMs: 60_000 });
			assert.match(status.stdout + status.stderr, said, `${alias}: status says it too`);
			assert.deepEqual(await noneLeft(mark), [], `${alias}: ssh processes left`);
		}
	}
	const noSsh = await runCli(['server', 'status', '--json'], { env: engineEnv({ DOCKER_HOST: sshHost!, PATH: '/nonexistent' }), timeoutMs: 60_000 });
	assert.match(noSsh.stdout + noSsh.stderr, /ssh:\/\/ needs the ssh client/);
});

test('tcp+TLS: DOCKER_TLS_VERIFY with DOCKER_CERT_PATH, a docker context with its TLS material, and a missing CA', { skip }, async () => {
	const viaEnv = await runCli(['server', 'status', '--json'], { env: engineEnv({ DOCKER_HOST: tlsHost!, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certPath! }), timeoutMs: 60_000 });
	assert.equal(viaEnv.code, 0, viaEnv.stderr);
	assert.equal(JSON.parse(viaEnv.stdout).engine.reachable, true);
	const context = process.env.STIGMER_REMOTE_CONTEXT_TLS;
	if (context) {
		const viaContext = await runCli(['server', 'status', '--json'], { env: engineEnv({ DOCKER_CONTEXT: context }), timeoutMs: 60_000 });
		assert.equal(viaContext.code, 0, viaContext.stderr);
		assert.deepEqual([JSON.parse(viaContext.stdout).engine.reachable, JSON.parse(viaContext.stdout).engine.endpoint], [true, tlsHost!.replace(/^tcp:/, 'https:')]);
	}
	// the client's files without the CA that signed the engine's certificate: refused, with the fix
	const noCa = mkdtempSync(path.join(os.tmpdir(), 'stigmer-no-ca-'));
	for (const file of ['cert.pem', 'key.pem']) copyFileSync(path.join(certPath!, file), path.join(noCa, file));
	const refused = await runCli(['doctor'], { env: engineEnv({ DOCKER_HOST: tlsHost!, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: noCa }), timeoutMs: 60_000 });
	rmSync(noCa, { recursive: true, force: true });
	assert.match(refused.stdout, /TLS with the engine at https:\/\/\S+ \(DOCKER_HOST\) failed/);
	assert.match(refused.stdout, /fix: point DOCKER_CERT_PATH at/);
	const missing = await runCli(['doctor'], { env: engineEnv({ DOCKER_HOST: tlsHost!, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' }), timeoutMs: 60_000 });
	assert.match(missing.stdout, /DOCKER_CERT_PATH=\/nonexistent does not exist/);
});
