"""Keeps the kernel modules image/modules lists and what they depend on; removes the rest.

Usage: trim-modules.py MODULES_DIR KEEP_LIST. MODULES_DIR is /usr/lib/modules/<version> of the
root file system; its modules.dep gives each module's dependencies. Prints what it kept.
"""

import os
import sys


def main():
    modules_dir, keep_list = sys.argv[1], sys.argv[2]
    with open(keep_list, encoding="utf-8") as file:
        prefixes = [line.split("#")[0].strip() for line in file]
    prefixes = ["kernel/" + prefix for prefix in prefixes if prefix]
    depends = {}
    with open(os.path.join(modules_dir, "modules.dep"), encoding="utf-8") as file:
        for line in file:
            module, _, deps = line.partition(":")
            depends[module] = deps.split()
    wanted = {module for module in depends if any(module.startswith(prefix) for prefix in prefixes)}
    kept = set()
    while wanted:
        module = wanted.pop()
        if module not in kept:
            kept.add(module)
            wanted.update(depends.get(module, []))
    before = after = 0
    for module in depends:
        path = os.path.join(modules_dir, module)
        size = os.path.getsize(path)
        before += size
        if module in kept:
            after += size
        else:
            os.remove(path)
    for folder, _, files in os.walk(os.path.join(modules_dir, "kernel"), topdown=False):
        if not files and not os.listdir(folder):
            os.rmdir(folder)
    print(f"kernel modules: kept {len(kept)} of {len(depends)}, {after >> 20} MB of {before >> 20} MB")


if __name__ == "__main__":
    main()
