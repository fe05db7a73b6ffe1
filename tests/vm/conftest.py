"""The VM labs: print what they measured at the end of the run."""
import vmlab


def pytest_terminal_summary(terminalreporter):
    if vmlab.REPORT:
        terminalreporter.section("VM lab")
        for line in vmlab.REPORT:
            terminalreporter.write_line(line)
