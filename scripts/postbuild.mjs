// After tsc: dist/cli.js is package.json's bin, so it must be executable in a checkout too
// (tsc keeps its `#!/usr/bin/env node` line but writes files 644).
// Then the yaml package, as installed, bundled into one file (dist/vendor/yaml.cjs) that
// config/yamlDocument.ts loads: Node loads the package's 72 files one by one, and that per-file cost
// was most of what reading config.yaml added to every command (docs/architecture.md, "Start-up").
// Then every help page as meow lays it out, into dist/help-pages.json, which `--help` prints without
// loading meow (source/commands/helpPages.ts).
// Last, the dashboard's bundle, dist/dashboard.bundle.js (scripts/bundleDashboard.mjs).
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildSync } from 'esbuild';

chmodSync(new URL('../dist/cli.js', import.meta.url), 0o755);

const require = createRequire(import.meta.url);
const yamlPackage = JSON.parse(readFileSync(require.resolve('yaml/package.json'), 'utf8'));
const yamlLicence = readFileSync(path.join(path.dirname(require.resolve('yaml/package.json')), 'LICENSE'), 'utf8').trim();
buildSync({
	entryPoints: [require.resolve('yaml')],
	outfile: new URL('../dist/vendor/yaml.cjs', import.meta.url).pathname,
	bundle: true,
	platform: 'node',
	format: 'cjs',
	target: 'node22',
	legalComments: 'inline',
	banner: {
		js: `/*\n * yaml ${yamlPackage.version}, bundled by scripts/postbuild.mjs from the installed package. Its licence (${yamlPackage.license}):\n *\n${yamlLicence.replace(/^/gm, ' * ').replace(/ +$/gm, '')}\n */`,
	},
	logLevel: 'warning',
});

const { renderHelpPages } = await import('../dist/commands/parseCommand.js');
const { helpPagesFile } = await import('../dist/commands/helpPages.js');
writeFileSync(helpPagesFile, `${JSON.stringify(renderHelpPages(), null, '\t')}\n`);

await import('./bundleDashboard.mjs');
