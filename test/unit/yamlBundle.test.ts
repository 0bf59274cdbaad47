import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/cli.ts';

const bundle = path.join(repoRoot, 'dist', 'vendor', 'yaml.cjs');
const require = createRequire(import.meta.url);

test("the built CLI's yaml bundle is the installed yaml package, whole", { skip: !existsSync(bundle) && 'no dist/vendor/yaml.cjs (built with tsc alone; `npm run build` makes it)' }, () => {
	const installed = JSON.parse(readFileSync(require.resolve('yaml/package.json'), 'utf8')).version;
	assert.match(readFileSync(bundle, 'utf8').slice(0, 200), new RegExp(`yaml ${installed.replaceAll('.', '\\.')},`), 'bundled from the installed version (rebuild after an upgrade)');
	const fromBundle = require(bundle);
	const fromPackage = require('yaml');
	assert.deepEqual(Object.keys(fromBundle).sort(), Object.keys(fromPackage).sort());
	const text = 'a: 1\nb: [x, y]\n';
	assert.deepEqual(fromBundle.parse(text), fromPackage.parse(text));
});
