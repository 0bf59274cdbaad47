// The agent-runner image's source hash: what changes it and what does not (buildContext.ts).
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { imageTag } from './contract.ts';
import { contextFiles, hashContext, imageSourceHash, precomputedFile } from './buildContext.ts';
import { packageRoot, packageVersion } from './version.ts';

function copyContext(): string {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'stigmer-context-'));
	for (const d of ['docker', 'agent-runner']) cpSync(path.join(packageRoot, d), path.join(dir, d), { recursive: true });
	return dir;
}

test('the context holds the Dockerfile and the runner, not byte-code', () => {
	const names = contextFiles(packageRoot).map((f) => f.name);
	assert.ok(names.includes('docker/Dockerfile'));
	assert.ok(names.includes('agent-runner/stigmer_agent_runner/__main__.py'), names.join('\n'));
	assert.ok(!names.some((n) => n.includes('__pycache__') || n.endsWith('.pyc')));
	assert.deepEqual(names, [...names].sort());
});

test('the hash follows contents, names, execute bits and the version, not other mode bits', () => {
	const dir = copyContext();
	try {
		const base = hashContext(contextFiles(dir), packageVersion);
		assert.equal(base, imageSourceHash(packageRoot), 'a copy hashes as the package itself');
		const py = path.join(dir, 'agent-runner', 'stigmer_agent_runner', '__main__.py');
		chmodSync(py, 0o664); // another umask
		assert.equal(hashContext(contextFiles(dir), packageVersion), base);
		chmodSync(py, 0o755);
		assert.notEqual(hashContext(contextFiles(dir), packageVersion), base);
		chmodSync(py, 0o644);
		assert.equal(hashContext(contextFiles(dir), packageVersion), base);
		assert.notEqual(hashContext(contextFiles(dir), '9.9.9'), base);
		writeFileSync(path.join(dir, 'agent-runner', 'stigmer_agent_runner', 'extra.py'), '');
		const added = hashContext(contextFiles(dir), packageVersion);
		assert.notEqual(added, base);
		writeFileSync(path.join(dir, 'docker', 'Dockerfile'), '# changed\n', { flag: 'a' });
		assert.notEqual(hashContext(contextFiles(dir), packageVersion), added);
		// byte-code left by a local pytest run is not part of it
		writeFileSync(path.join(dir, 'agent-runner', 'stigmer_agent_runner', 'x.pyc'), 'junk');
		assert.equal(hashContext(contextFiles(dir), packageVersion), hashContext(contextFiles(dir), packageVersion));
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test("the default image's tag names the version and the hash", () => {
	const hash = imageSourceHash();
	assert.match(imageTag(packageVersion, hash), new RegExp(`:${packageVersion.replace(/\./g, '\\.')}-${hash.slice(0, 12)}$`));
});

test("the build's precomputed hash (dist/image-source.json) is the hash of the files beside it", { skip: !existsSync(path.join(packageRoot, precomputedFile)) && 'not built' }, () => {
	const written = JSON.parse(readFileSync(path.join(packageRoot, precomputedFile), 'utf8'));
	assert.deepEqual(written, { version: packageVersion, hash: hashContext(contextFiles(packageRoot), packageVersion) }, 'dist/ is older than docker/ or agent-runner/: npm run build');
});

test('an installed package (no source/) reads the precomputed hash; a checkout hashes its files', () => {
	const dir = copyContext();
	try {
		mkdirSync(path.join(dir, 'dist'));
		writeFileSync(path.join(dir, precomputedFile), JSON.stringify({ version: packageVersion, hash: 'f'.repeat(64) }));
		assert.equal(imageSourceHash(dir), 'f'.repeat(64));
		const checkout = copyContext();
		mkdirSync(path.join(checkout, 'dist'));
		mkdirSync(path.join(checkout, 'source'));
		writeFileSync(path.join(checkout, precomputedFile), JSON.stringify({ version: packageVersion, hash: 'f'.repeat(64) }));
		assert.equal(imageSourceHash(checkout), hashContext(contextFiles(checkout), packageVersion));
		rmSync(checkout, { recursive: true, force: true });
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
