// API version negotiation: the choice from the engine's own GET /version answer (ApiVersion and
// MinAPIVersion, as real engines send them). No version is fixed: the engine's range decides.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiVersionError, chooseApiVersion, maxApiVersion, minApiVersion, needsVersionRange, newerThanMax } from './apiVersion.ts';

test("each engine's range gives the newest version both sides speak", () => {
	// Debian 12's Docker 20.10 (the engine here)
	assert.equal(chooseApiVersion({ ApiVersion: '1.41', MinAPIVersion: '1.12' }), '1.41');
	// Podman 4.3's Docker-compatible API
	assert.equal(chooseApiVersion({ ApiVersion: '1.41', MinAPIVersion: '1.24' }), '1.41');
	// Docker 26.1 (1.45) is below our max: its own
	assert.equal(chooseApiVersion({ ApiVersion: '1.45', MinAPIVersion: '1.24' }), '1.45');
	// Docker 28.5 and 29 speak more than we know: our max
	assert.equal(chooseApiVersion({ ApiVersion: '1.51', MinAPIVersion: '1.24' }), maxApiVersion);
	assert.equal(chooseApiVersion({ ApiVersion: '1.52', MinAPIVersion: '1.44' }), maxApiVersion);
});

test("the engine's minimum is respected: a raised floor (DOCKER_MIN_API_VERSION) above our max is met", () => {
	// DOCKER_MIN_API_VERSION=1.44 on an engine whose max is 1.51: our max (1.47) is still allowed
	assert.equal(chooseApiVersion({ ApiVersion: '1.51', MinAPIVersion: '1.44' }), '1.47');
	// a future engine that refuses everything we know: its oldest, the nearest to ours
	assert.equal(chooseApiVersion({ ApiVersion: '1.60', MinAPIVersion: '1.50' }), '1.50');
	// 1.9 < 1.10 < 1.41: numeric, not string, comparison
	assert.equal(chooseApiVersion({ ApiVersion: '1.45', MinAPIVersion: '1.9' }), '1.45');
});

test('an engine older than stigmer supports, or one that names no version, is refused', () => {
	assert.throws(
		() => chooseApiVersion({ ApiVersion: '1.40', MinAPIVersion: '1.12' }),
		(error: unknown) => error instanceof ApiVersionError && error.engineVersion === '1.40',
	);
	assert.throws(() => chooseApiVersion({}), ApiVersionError);
	assert.throws(() => chooseApiVersion({ ApiVersion: 'garbage' }), ApiVersionError);
	assert.equal(chooseApiVersion({ ApiVersion: minApiVersion }), minApiVersion, 'no MinAPIVersion (older engines): only the max matters');
});

test("/_ping's Api-Version header suffices within our range; the engine is asked more outside it", () => {
	// Docker 20.10 and Podman 4.3 (Api-Version: 1.41), Docker 26.1 (1.45): their own max, no /version
	for (const header of ['1.41', '1.45', maxApiVersion]) {
		assert.equal(needsVersionRange(header), false, header);
		assert.equal(chooseApiVersion({ ApiVersion: header }), header);
	}
	// Docker 28.5 (1.51), 29 (1.52): their MinAPIVersion may exceed our max, so they are asked (a versioned /_ping)
	assert.equal(needsVersionRange('1.51'), true);
	assert.equal(needsVersionRange('1.52'), true);
	for (const header of ['1.51', '1.52']) assert.equal(newerThanMax(header), true, header);
	for (const header of ['1.41', maxApiVersion, '1.40', '', 'x']) assert.equal(newerThanMax(header), false, JSON.stringify(header));
	// too old (to word the refusal), or a header that is missing or garbled
	for (const header of ['1.40', '', 'x']) assert.equal(needsVersionRange(header), true, JSON.stringify(header));
});
