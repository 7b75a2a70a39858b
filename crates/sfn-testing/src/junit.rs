//! Results as JUnit XML, the report format CI systems read (GitHub Actions reporters,
//! GitLab, Jenkins): one `<testsuite>` per test file, one `<testcase>` per test case, a
//! `<failure>` holding each way a case differs from what it expects.

use std::time::Duration;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::{CaseResult, TestFile};

/// The JUnit XML document of `results` (as [`run`](crate::run) gave them for `files`).
pub fn junit(files: &[TestFile], results: &[CaseResult]) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into memory cannot fail.
    let _ = write(&mut writer, files, results);
    String::from_utf8_lossy(&writer.into_inner()).into_owned()
}

fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

fn write(
    w: &mut Writer<Vec<u8>>,
    files: &[TestFile],
    results: &[CaseResult],
) -> std::io::Result<()> {
    let failed = |rs: &[&CaseResult]| rs.iter().filter(|r| !r.passed()).count();
    let total: Duration = results.iter().map(|r| r.duration).sum();
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let all: Vec<&CaseResult> = results.iter().collect();
    w.write_event(Event::Start(BytesStart::new("testsuites").with_attributes(
        [
            ("name", "orderflow test"),
            ("tests", results.len().to_string().as_str()),
            ("failures", failed(&all).to_string().as_str()),
            ("errors", "0"),
            ("time", seconds(total).as_str()),
        ],
    )))?;
    for (index, file) in files.iter().enumerate() {
        let ran: Vec<&CaseResult> = results.iter().filter(|r| r.file == index).collect();
        let time: Duration = ran.iter().map(|r| r.duration).sum();
        let name = file.path.display().to_string();
        w.write_event(Event::Start(BytesStart::new("testsuite").with_attributes(
            [
                ("name", name.as_str()),
                ("tests", ran.len().to_string().as_str()),
                ("failures", failed(&ran).to_string().as_str()),
                ("errors", "0"),
                ("skipped", "0"),
                ("time", seconds(time).as_str()),
            ],
        )))?;
        for result in ran {
            let case = BytesStart::new("testcase").with_attributes([
                ("name", result.case.as_str()),
                ("classname", file.machine_name.as_str()),
                ("time", seconds(result.duration).as_str()),
            ]);
            let Some(first) = result.failures.first() else {
                w.write_event(Event::Empty(case))?;
                continue;
            };
            w.write_event(Event::Start(case))?;
            w.write_event(Event::Start(BytesStart::new("failure").with_attributes([
                ("message", first.as_str()),
                ("type", "ExpectationFailed"),
            ])))?;
            let mut text = result.failures.join("\n");
            text.push_str(&format!(
                "\nstatus {}; states entered: {}",
                result.status,
                result.entered.join(" → ")
            ));
            w.write_event(Event::Text(BytesText::new(&text)))?;
            w.write_event(Event::End(BytesEnd::new("failure")))?;
            w.write_event(Event::End(BytesEnd::new("testcase")))?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    Ok(())
}
