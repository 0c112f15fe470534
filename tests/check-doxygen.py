#!/usr/bin/env python3
# The API reference builds without a single Doxygen warning, and is complete
# where Doxygen itself does not warn: every header has a @file comment (else
# Doxygen skips undocumented declarations outside the header's group) and
# every enum value, each status code among them, has a description.
# Runs the project's Doxyfile, with its output in a temporary directory.
# usage: check-doxygen.py DOXYGEN DOXYFILE
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET


def text(element):
    return "".join(element.itertext()).strip() if element is not None else ""


def documented(element):
    return text(element.find("briefdescription")) or text(
        element.find("detaileddescription"))


def main():
    doxygen, doxyfile = sys.argv[1:3]
    with open(doxyfile, encoding="utf-8") as f:
        config = f.read()
    with tempfile.TemporaryDirectory(prefix="clq-doxygen-") as tmp:
        log = os.path.join(tmp, "warnings.log")
        # Later settings override earlier ones.
        config += (f"\nOUTPUT_DIRECTORY = {tmp}\nWARN_LOGFILE = {log}\n"
                   "GENERATE_XML = YES\nXML_PROGRAMLISTING = NO\n"
                   "QUIET = YES\nWARN_AS_ERROR = NO\n")
        run = subprocess.run([doxygen, "-"], input=config, text=True,
                             capture_output=True, check=False)
        problems = []
        if run.returncode != 0:
            problems.append(f"doxygen exited with {run.returncode}:\n"
                            f"{run.stdout}{run.stderr}")
        warnings = ""
        if os.path.exists(log):
            with open(log, encoding="utf-8", errors="replace") as f:
                warnings = f.read().strip()
        if warnings:
            # Doxygen repeats a warning for each place a member appears
            # (group, file); a warning's own lines after the first are
            # indented.
            entries = []
            for line in warnings.splitlines():
                if line.startswith(" ") and entries:
                    entries[-1] += "\n" + line
                else:
                    entries.append(line)
            problems.append("doxygen warnings:\n" +
                            "\n".join(dict.fromkeys(entries)))

        xml_dir = os.path.join(tmp, "xml")
        headers = values = 0
        compounds = []
        if os.path.exists(os.path.join(xml_dir, "index.xml")):
            index = ET.parse(os.path.join(xml_dir, "index.xml")).getroot()
            compounds = index.findall("compound")
        for compound in compounds:
            kind, name = compound.get("kind"), text(compound.find("name"))
            if kind != "file" or not name.endswith(".h"):
                continue
            headers += 1
            path = os.path.join(xml_dir, compound.get("refid") + ".xml")
            root = ET.parse(path).getroot().find("compounddef")
            if not documented(root):
                problems.append(f"{name}: no @file comment")
            for value in root.iter("enumvalue"):
                values += 1
                if not documented(value):
                    problems.append(f"{name}: enum value "
                                    f"{text(value.find('name'))} has no "
                                    "description")
        if headers == 0:
            problems.append("doxygen documented no header at all")

    if problems:
        print("\n".join(problems))
        return 1
    print(f"no doxygen warnings; {headers} headers, {values} enum values "
          "documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())
