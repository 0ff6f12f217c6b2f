// Runs a CLI's main(argv) and ends with its status once stdout and stderr
// have drained (process.exitCode, never process.exit() with writes queued);
// an unexpected error is one line on stderr, named after the command, and status 1.
export function launch(name, main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
