# The test layers, sourced by scripts/test.sh and scripts/test-unit.sh (CONTRIBUTING.md, "Tests").
#   unit_test_files:   need no container engine, no root, no tmux: one module's tests beside it
#                      (source/**/*.test.ts, the Ink components' *.test.tsx), and test/unit/ for tests
#                      of more than one module, of the CLI spawned, or of scripts/ and the docs
#   engine_test_files: integration tests against a real engine and real processes (test/integration/),
#                      end-to-end tests of the dashboard in tmux (test/e2e/)
shopt -s globstar nullglob
unit_test_files=(source/**/*.test.ts source/**/*.test.tsx test/unit/**/*.test.ts test/ui/**/*.test.tsx)
engine_test_files=(test/integration/**/*.test.ts test/e2e/**/*.test.ts)
