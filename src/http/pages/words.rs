//! The pages' words: written in Vietnamese in the templates and the code, and translated here when the reader
//! chose English. A phrase without a translation shows in Vietnamese (a test keeps the list complete).

/// Vietnamese → English.
const ENGLISH: &[(&str, &str)] = &[
    ("Bỏ qua, đến nội dung chính", "Skip to main content"),
    ("Theo dõi hạn báo cáo", "Reporting deadlines"),
    ("Tài khoản", "Account"),
    ("Đăng xuất", "Sign out"),
    ("Đăng nhập", "Sign in"),
    ("Lỗi: Đăng nhập", "Error: Sign in"),
    ("Giờ trên trang là giờ Việt Nam.", "Times on this page are Vietnam time."),
    ("Số liệu tính đến", "Figures as of"),
    ("Có lỗi cần sửa", "There is a problem"),
    ("Mã truy cập", "Access code"),
    (
        "Mã do văn phòng điều phối cấp cho đơn vị hoặc cán bộ, bắt đầu bằng hb_.",
        "The code the coordinating office gave your unit or you; it starts with hb_.",
    ),
    ("Lỗi:", "Error:"),
    (
        "Chưa có mã truy cập? Đề nghị liên hệ văn phòng điều phối kế hoạch của đơn vị.",
        "No access code? Please contact the office that coordinates your unit's plan.",
    ),
    (
        "Mã truy cập không đúng hoặc đã bị thu hồi",
        "The access code is wrong or has been revoked",
    ),
    ("Về trang tổng quan", "Back to the overview"),
    ("Tổng quan", "Overview"),
    (
        "Chưa có kế hoạch nào mà tài khoản này được theo dõi.",
        "There is no plan this account may follow yet.",
    ),
    ("Kế hoạch", "Plan"),
    (
        "Tình hình nộp báo cáo – kỳ hiện tại",
        "Reporting status – current period",
    ),
    ("Báo cáo", "Report"),
    ("Kỳ báo cáo", "Period"),
    ("Hạn nộp", "Deadline"),
    ("Đã nộp", "Submitted"),
    ("Nộp đúng hạn", "On time"),
    ("Quá hạn", "Overdue"),
    ("Bị trả lại", "Returned"),
    ("tạm tính", "provisional"),
    ("cần xử lý", "need attention"),
    ("Tình hình nộp theo đơn vị và kỳ", "Reporting by unit and period"),
    ("Bộ lọc", "Filters"),
    ("Từ kỳ", "From period"),
    ("Đến kỳ", "To period"),
    ("Trạng thái", "Status"),
    ("Tất cả", "All"),
    ("Thuộc đơn vị (mã)", "Under unit (code)"),
    ("Áp dụng bộ lọc", "Apply filters"),
    ("Xóa bộ lọc", "Clear filters"),
    ("Tải về Excel (.xlsx)", "Download Excel (.xlsx)"),
    ("Tải về CSV", "Download CSV"),
    ("Chú giải", "Legend"),
    ("Hiển thị", "Showing"),
    ("đơn vị", "units"),
    ("Trang sau", "Next page"),
    ("Đơn vị", "Unit"),
    ("Tổng cộng", "Total"),
    ("hạn", "due"),
    ("Hoạt động đến", "Existed until"),
    ("Quản trị hệ thống", "System administrator"),
    ("Không đăng nhập được", "Could not sign in"),
    (
        "Máy chủ đang bận hoặc không kết nối được cơ sở dữ liệu. Đề nghị thử lại sau ít phút.",
        "The server is busy or cannot reach its database. Please try again in a few minutes.",
    ),
    ("Không thực hiện được", "Could not do that"),
    (
        "Biểu mẫu đã cũ hoặc không gửi từ trang của hệ thống. Đề nghị tải lại trang và thử lại.",
        "The form is out of date or was not sent from this site. Please reload the page and try again.",
    ),
    ("Không tìm thấy", "Not found"),
    (
        "Trang này không có, hoặc tài khoản đang đăng nhập không được xem.",
        "This page does not exist, or the signed-in account may not see it.",
    ),
    ("Không được phép", "Not allowed"),
    (
        "Tài khoản đang đăng nhập không được xem hoặc làm việc này.",
        "The signed-in account may not see or do this.",
    ),
    ("Đã có lỗi", "Something went wrong"),
    (
        "Máy chủ chưa xử lý được yêu cầu. Đề nghị thử lại; nếu vẫn lỗi, báo bộ phận quản trị hệ thống.",
        "The server could not handle the request. Please try again; if it persists, tell the system administrators.",
    ),
    ("(không bắt buộc)", "(optional)"),
    ("Có", "Yes"),
    ("Không", "No"),
    ("Ghi chú gửi cơ quan tiếp nhận", "Note to the receiving office"),
    ("Nộp báo cáo", "Submit report"),
    ("Sửa và nộp lại", "Correct and resubmit"),
    ("Quay lại", "Back"),
    ("Ý kiến của cơ quan tiếp nhận", "The receiving office's comment"),
    ("— Chọn —", "— Choose —"),
    (
        "Cơ quan tiếp nhận sẽ xem xét báo cáo; nếu cần bổ sung, đơn vị sẽ nhận được thư báo.",
        "The receiving office will review the report; if anything is missing, your unit will get an email.",
    ),
    ("GIẤY BIÊN NHẬN BÁO CÁO", "REPORT RECEIPT"),
    ("Mã biên nhận", "Receipt number"),
    ("Người nộp", "Submitted by"),
    ("Phiên bản", "Version"),
    ("Thời điểm nhận", "Received at"),
    ("Về danh sách báo cáo cần nộp", "Back to the reports to submit"),
    ("Đã nộp báo cáo", "Report submitted"),
    (
        "Để in giấy biên nhận, dùng lệnh In của trình duyệt.",
        "To print the receipt, use the browser's Print command.",
    ),
    ("Báo cáo cần nộp", "Reports to submit"),
    ("Hiện không có báo cáo nào cần nộp.", "There is no report to submit at the moment."),
    ("Cần xử lý", "Needs attention"),
    ("Sắp tới", "Coming up"),
    ("Đúng hạn", "On time"),
    ("Nộp muộn", "Submitted late"),
    ("Không nhập", "Not entered"),
    ("Được gia hạn", "Extended"),
    ("Được miễn", "Exempt"),
    ("Nhận", "Received"),
    ("lúc", "at"),
    ("văn phòng nhập thay đơn vị", "entered by the office for the unit"),
    ("đã sửa, trước là", "changed; it was"),
    ("Ghi chú", "Note"),
    ("Ý kiến", "Comment"),
    ("(bắt buộc khi trả lại)", "(needed to return)"),
    ("Tiếp nhận", "Accept"),
    ("Trả lại", "Return"),
    ("Đơn vị chưa nộp báo cáo cho kỳ này.", "The unit has not submitted a report for this period."),
    ("Đơn vị chưa nộp; chưa đến hạn.", "Not submitted yet; not yet due."),
    ("Đã quá hạn, đơn vị chưa nộp.", "Overdue: the unit has not submitted."),
    ("Đơn vị được miễn nộp kỳ này.", "The unit is exempt for this period."),
    ("Báo cáo đã bị trả lại để bổ sung.", "The report was returned for correction."),
    ("Đơn vị đã nộp muộn.", "The unit submitted late."),
    ("Đơn vị đã nộp đúng hạn.", "The unit submitted on time."),
    ("Phiên bản hiện hành", "Current version"),
    ("nhận lúc", "received"),
    ("Đã tiếp nhận", "Accepted"),
    ("Chưa đến hạn", "Not yet due"),
    ("hết ngày", "end of"),
    (
        "Yêu cầu có giá trị chưa đúng (ví dụ: kỳ báo cáo hoặc bộ lọc). Đề nghị quay lại và kiểm tra.",
        "Something in the request is not right (a period or a filter, say). Please go back and check.",
    ),
    (
        "Việc này không làm được ở trạng thái hiện tại (ví dụ: báo cáo đã được xem xét, có phiên bản mới hơn, hoặc đơn vị được miễn nộp kỳ này). Đề nghị tải lại trang.",
        "This cannot be done as things stand (the report was already reviewed, a newer version came, or the unit is exempt for this period, say). Please reload the page.",
    ),
    ("Tổng hợp số liệu", "Consolidated figures"),
    ("Xem", "Show"),
    ("Tổng hợp các chỉ tiêu", "The figures, consolidated"),
    ("Chỉ tiêu", "Figure"),
    ("Cách tổng hợp", "How"),
    ("Kết quả", "Result"),
    ("Số đơn vị có số liệu", "Units with a figure"),
    ("Không đơn vị nào nhập.", "No unit entered it."),
    ("Đơn vị chưa được tính", "Units not counted"),
    ("Tất cả đơn vị phải nộp đã được tính.", "Every unit that had to report is counted."),
    (
        "Để in bản tổng hợp, dùng lệnh In của trình duyệt.",
        "To print it, use the browser's Print command.",
    ),
    ("Liên kết không dùng được", "This link cannot be used"),
    ("Đăng nhập bằng mã truy cập", "Sign in with an access code"),
    ("Gửi báo cáo của đơn vị", "Your unit's report"),
    (
        "Liên kết trong thư đưa đơn vị đến trang gửi báo cáo. Bấm Tiếp tục để mở trang.",
        "The link in the email takes your unit to its report. Press Continue to open it.",
    ),
    ("Tiếp tục", "Continue"),
    (
        "Đã thử quá nhiều lần từ địa chỉ này. Đề nghị thử lại sau ít phút.",
        "Too many attempts from this address. Please try again in a few minutes.",
    ),
    (
        "Liên kết không đúng, đã hết hạn (30 ngày) hoặc đã bị thu hồi. Đề nghị liên hệ văn phòng điều phối để nhận liên kết mới, hoặc đăng nhập bằng mã truy cập của đơn vị.",
        "The link is wrong, has expired (30 days) or was revoked. Please ask the coordinating office for a new one, or sign in with your unit's access code.",
    ),
    ("ngày", "on"),
    ("số đến", "incoming no."),
    ("nhập vào hệ thống lúc", "entered at"),
    ("nhận ngày", "received on"),
    (
        "Nhập lý do trả lại, để đơn vị biết cần sửa gì",
        "Enter why the report is returned, so the unit knows what to fix",
    ),
];

/// `text` in English when `english`, else as written.
pub fn translate(english: bool, text: &str) -> String {
    if !english {
        return text.to_owned();
    }
    ENGLISH
        .iter()
        .find(|(vi, _)| *vi == text)
        .map_or(text, |(_, en)| *en)
        .to_owned()
}

/// A field error of the matrix's filters as a person reads it, built from the field's name (not the validator's
/// text: `../shared/UX.md` §2.6).
pub fn field_error(english: bool, field: &str, message: &str) -> String {
    let (vi, en) = match field {
        "from_period" => (
            "Từ kỳ: nhập mã kỳ như 2024, 2024Q3 hoặc 202409; hai kỳ phải cùng loại",
            "From period: enter a period such as 2024, 2024Q3 or 202409; both ends of one kind",
        ),
        "to_period" => (
            "Đến kỳ: nhập mã kỳ cùng loại với \"Từ kỳ\" và không trước kỳ đó",
            "To period: enter a period of the same kind as \"From period\", not before it",
        ),
        "status" => (
            "Chọn một trạng thái trong danh sách",
            "Choose a status from the list",
        ),
        "parent" => (
            "Thuộc đơn vị: không có đơn vị nào có mã này",
            "Under unit: no unit has this code",
        ),
        _ => return message.to_owned(),
    };
    if english { en } else { vi }.to_owned()
}

#[cfg(test)]
mod tests {
    /// Every phrase the templates pass to `t(...)` has an English translation.
    #[test]
    fn every_template_phrase_is_translated() {
        let mut missing = Vec::new();
        for (name, source) in super::super::TEMPLATES {
            for piece in source
                .split("t(\"")
                .skip(1)
                .chain(source.split("t('").skip(1))
            {
                let phrase = piece.split(['"', '\'']).next().unwrap_or_default();
                if !super::ENGLISH.iter().any(|(vi, _)| *vi == phrase) {
                    missing.push(format!("{name}: {phrase}"));
                }
            }
        }
        assert!(missing.is_empty(), "{missing:#?}");
    }
}
