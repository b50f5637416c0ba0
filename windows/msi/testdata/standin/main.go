// Command standin is a small Windows program the signing test packs and
// signs in place of kuvert.exe and kuvert-gui.exe, which take minutes to
// cross-build cold.
package main

func main() {}
