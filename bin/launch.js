// Runs a CLI's main(argv) and exits with its status; an unexpected error is
// one line on stderr, named after the command, and status 1.
export function launch(name, main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
