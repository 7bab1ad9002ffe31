#!/usr/bin/env python3
"""Wraps a text file in a C++ header as a raw string literal:
embed.py INPUT OUTPUT SYMBOL (the page script travels inside the plugin)."""
import sys

src, out, symbol = sys.argv[1:4]
text = open(src, encoding="utf-8").read()
delim = "mgw_embed"
if ")" + delim + '"' in text:
    sys.exit(f"{src}: contains the raw string delimiter")
with open(out, "w", encoding="utf-8") as f:
    f.write(f"// Generated from {src.split('/')[-1]} by embed.py: do not edit.\n#pragma once\n")
    f.write(f'inline constexpr const char {symbol}[] = R"{delim}({text}){delim}";\n')
