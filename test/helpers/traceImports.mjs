// Preloaded with --import: prints every package import of the process to stderr as `import: NAME`,
// so a test can assert what a command loads (non-UI commands must never load Ink or React).
import { registerHooks } from 'node:module';

registerHooks({
	resolve(specifier, context, nextResolve) {
		if (!specifier.startsWith('.') && !specifier.startsWith('node:') && !specifier.startsWith('file:') && !specifier.startsWith('/')) {
			process.stderr.write(`import: ${specifier}\n`);
		}
		return nextResolve(specifier, context);
	},
});
