// How stigmer tells the engine's kind: /_ping's Server header, or GET /version's components (Podman's
// Platform.Name is its OS, not its name), and isPodman on what either gave.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineInfoFromPing, isPodman, platformOfVersion } from './enginePing.ts';

test('GET /version: Podman is told by its components, not by Platform.Name (its OS); Docker by its name', () => {
	const podman43 = { Platform: { Name: 'linux/amd64/debian-12' }, Components: [{ Name: 'Podman Engine' }, { Name: 'Conmon' }] };
	assert.equal(platformOfVersion(podman43), 'Podman Engine');
	assert.equal(platformOfVersion({ Platform: { Name: 'Docker Engine - Community' }, Components: [{ Name: 'Engine' }, { Name: 'containerd' }] }), 'Docker Engine - Community');
	assert.equal(platformOfVersion({ Platform: { Name: '' }, Components: [{ Name: 'Engine' }] }), 'Docker Engine');
	assert.equal(platformOfVersion({}), 'Docker Engine');
});

test('isPodman: from /_ping (Libpod) or /version alike; Docker, nothing known: not Podman', () => {
	const base = { endpoint: 'x', version: '4.3.1', apiVersion: '1.41', os: 'linux', arch: '' };
	assert.equal(isPodman(engineInfoFromPing({ 'api-version': '1.41', server: 'Libpod/4.3.1 (linux)' }, 'x')), true);
	assert.equal(isPodman({ ...base, platform: platformOfVersion({ Components: [{ Name: 'Podman Engine' }] }) }), true);
	assert.equal(isPodman(engineInfoFromPing({ 'api-version': '1.41', server: 'Docker/20.10.24 (linux)' }, 'x')), false);
	assert.equal(isPodman({ ...base, platform: 'linux/amd64/debian-12' }), false);
	assert.equal(isPodman(null), false);
});
