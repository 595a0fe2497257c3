// Helpers for tests that run whole containers through the crun-ckpt binary: writing specs,
// and checking that a container left nothing on the host (cgroup, veth, state directory).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "harness.h"

namespace ckpt::test {

// A YAML flow sequence of the given strings: ["a", "b"].
std::string yaml_list(const std::vector<std::string>& items);

// Writes NAME.yaml into the Cli's scratch dir with `name`, `process.args` and extra top-level
// YAML lines, and returns its path.
std::string write_spec(Cli& cli, const std::string& name, const std::vector<std::string>& args,
                       const std::string& extra = "");

// The spec lines that bind-mount `dir` (a test's report directory) at /mnt in the container.
std::string report_mount(const std::string& dir);

// The whitespace-separated KEY=VALUE items of a workload's report; other words are skipped.
std::map<std::string, std::string> parse_key_values(const std::string& text);

// The container pids of the workloads that keep a "status-PID" file in `dir` (sorted).
std::vector<std::string> status_pids(const std::string& dir);

// Waits for a whole report at `path` (the workload ends it with a line "end"); returns its text,
// or "" if none was complete within `timeout`.
std::string wait_for_report(const std::string& path, std::chrono::milliseconds timeout);

// Asks every process of container `id` for a report (SIGUSR1 to all, after removing their old
// "report-PID" files in `dir`) and waits until `count` processes, found by their status files,
// each wrote a complete one. Returns the texts by pid; fails the test if they did not all come.
std::map<std::string, std::string> request_reports(Cli& cli, const std::string& id,
                                                   const std::string& dir, size_t count);

// Every place a container could leave something behind on the host, by id: cgroups on every
// hierarchy, its state directory and any hidden staging directory of it, its host veths, and,
// given the "10.199.X" prefix of its only subnet, that subnet's bridge.
std::vector<std::string> leftovers(const Cli& cli, const std::string& id,
                                   const std::string& subnet_prefix = "");

// A unique /24 in 10.199.0.0/16 for this test process and call: "10.199.X" (add ".N").
std::string unique_subnet_prefix();

}  // namespace ckpt::test

// EXPECT_NO_LEFTOVERS(cli, id) or EXPECT_NO_LEFTOVERS(cli, id, subnet_prefix).
#define EXPECT_NO_LEFTOVERS(cli, ...)                                  \
  do {                                                                 \
    auto found__ = ::ckpt::test::leftovers((cli), __VA_ARGS__);        \
    EXPECT_TRUE(found__.empty()) << ::testing::PrintToString(found__); \
  } while (0)
