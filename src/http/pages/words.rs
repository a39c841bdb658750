//! The pages' words: written in Vietnamese in the templates and the code, and translated here when the reader
//! chose English. A phrase without a translation shows in Vietnamese (a test keeps the list complete).

/// Vietnamese → English.
const ENGLISH: &[(&str, &str)] = &[
    ("Đơn vị quá hạn", "Overdue units"),
    ("Quyết định của văn phòng", "The office's decisions"),
    ("Đơn vị, qua liên kết trong thư", "The unit, through the link in its letter"),
    ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "SOCIALIST REPUBLIC OF VIETNAM"),
    ("Độc lập - Tự do - Hạnh phúc", "Independence - Freedom - Happiness"),
    ("NGƯỜI LẬP BIỂU", "PREPARED BY"),
    ("(Ký, ghi rõ họ tên)", "(Signature and full name)"),
    ("THỦ TRƯỞNG ĐƠN VỊ", "HEAD OF THE OFFICE"),
    ("(Ký, ghi rõ họ tên, đóng dấu)", "(Signature, full name and seal)"),
    ("Mã đơn vị", "Unit code"),
    ("Cấp", "Level"),
    ("Trực thuộc", "Under"),
    ("Hoạt động từ", "In existence from"),
    ("Kết thúc hoạt động", "Ceased on"),
    ("Địa chỉ", "Address"),
    ("Điện thoại", "Phone"),
    ("Thư điện tử", "Email"),
    ("Người báo cáo", "Reporters"),
    ("Lãnh đạo đơn vị", "Heads of the unit"),
    ("Chưa có", "None yet"),
    ("Kế thừa", "Succession"),
    ("Tiếp nhận từ", "Took over from"),
    ("Chuyển giao cho", "Handed over to"),
    ("Tỷ lệ nộp đúng hạn theo năm", "On-time rate per year"),
    (
        "Số báo cáo nộp đúng hạn trên số báo cáo phải nộp (không tính kỳ được miễn), theo năm của hạn nộp.",
        "Reports on time out of reports expected (exempt periods left out), by the year of the deadline.",
    ),
    ("Hạn nộp từ một năm trước", "Deadlines from a year back"),
    ("Không có hạn nộp nào tài khoản này được xem.", "There is no deadline this account may see."),
    ("Tỷ lệ nộp đúng hạn các kỳ trước", "On-time rate of the past periods"),
    ("Đúng hạn các kỳ trước", "On time, past periods"),
    ("Văn phòng nhập thay đơn vị", "Filed by the office for the unit"),
    (
        "Báo cáo đến bằng văn bản giấy hoặc qua hệ thống văn bản: nhập ngày đến để tính đúng hạn theo ngày đó. Để trống nếu đơn vị gửi hôm nay.",
        "A report that came on paper or through the document system: enter the day it arrived, and timeliness is judged on that day. Leave it empty if the unit sent it today.",
    ),
    ("Ngày nhận văn bản", "Day the document arrived"),
    ("Số đến", "Incoming number"),
    (
        "Ngày nhận văn bản: nhập một ngày, ví dụ 28/11/2026",
        "Day the document arrived: enter a day, for example 28/11/2026",
    ),
    (
        "Ngày nhận văn bản: không được sau hôm nay hoặc trước khi kỳ báo cáo bắt đầu",
        "Day the document arrived: not after today, nor before the period starts",
    ),
    ("Số đến: tối đa 100 ký tự", "Incoming number: at most 100 characters"),
    (
        "Nhập báo cáo thay đơn vị (báo cáo bằng văn bản giấy)",
        "File for the unit (a report that came on paper)",
    ),
    (
        "Gửi ngay một thư nhắc đến người báo cáo của đơn vị (tối đa một lần một ngày cho mỗi đơn vị).",
        "Send the unit's reporters a reminder now (at most once a day for each unit).",
    ),
    ("Gia hạn", "Extend"),
    ("Hạn mới (ngày cuối được nộp)", "New deadline (last day to file)"),
    ("Hạn hiện tại", "Current deadline"),
    ("Lý do gia hạn", "Reason for the extension"),
    ("Miễn nộp kỳ này", "Exempt from this period"),
    ("Lý do miễn nộp", "Reason for the exemption"),
    ("Miễn nộp", "Exempt"),
    ("Lịch sử", "History"),
    ("Chưa có gì.", "Nothing yet."),
    ("Nhập ngày hạn mới, ví dụ 15/12/2026", "Enter the new deadline, for example 15/12/2026"),
    ("Nhập lý do gia hạn", "Enter the reason for the extension"),
    ("Nhập lý do miễn nộp", "Enter the reason for the exemption"),
    (
        "Ngày hạn mới phải sau hạn hiện tại và là một ngày có thật",
        "The new deadline must be a real day after the current one",
    ),
    ("Gia hạn đến hết", "Extended to the end of"),
    ("Lý do", "Reason"),
    ("Gửi thư nhắc trực tiếp đến", "Reminder sent by hand to"),
    (
        "Gửi thư nhắc trực tiếp đến người báo cáo của đơn vị",
        "Reminder sent by hand to the unit's reporters",
    ),
    (
        "Đơn vị đã kết thúc hoạt động; không gửi thư nhắc.",
        "The unit no longer exists; no reminder was sent.",
    ),
    ("Nhận phiên bản", "Received version"),
    ("Trả lại phiên bản", "Returned version"),
    ("Tiếp nhận phiên bản", "Accepted version"),
    ("Hệ thống gửi thư nhắc hạn", "The service sent a reminder"),
    ("Hệ thống gửi thư đôn đốc lần", "The service sent overdue letter no."),
    ("Danh sách đơn vị quá hạn", "Overdue units"),
    (
        "Các đơn vị đã quá hạn mà chưa nộp báo cáo, quá hạn lâu nhất ở trên; cột “Đã gửi” là các thư nhắc hạn, đôn đốc hệ thống đã gửi về hạn nộp đó.",
        "Units past their deadline without a report, the longest overdue first; “Sent” lists the reminders and overdue letters the service already sent about that deadline.",
    ),
    ("Không có đơn vị nào quá hạn.", "No unit is overdue."),
    ("Số ngày quá hạn", "Days overdue"),
    ("Đã gửi", "Sent"),
    ("Nhắc trực tiếp", "Remind now"),
    ("Chưa gửi thư nào", "Nothing sent yet"),
    ("Đã nhắc hôm nay", "Reminded today"),
    ("Gửi thư nhắc ngay cho", "Send a reminder now to"),
    ("Gửi nhắc ngay", "Send a reminder now"),
    ("quá hạn", "overdue"),
    ("Thư nhắc hạn", "Reminder"),
    ("Thư đôn đốc lần", "Overdue letter no."),
    (
        "Đã gửi thư nhắc cho đơn vị; thư đi qua hàng gửi trong vài phút.",
        "A reminder is on its way to the unit; it leaves the outbox within minutes.",
    ),
    (
        "Đơn vị này đã được nhắc hôm nay; mỗi đơn vị được nhắc trực tiếp tối đa một lần một ngày.",
        "This unit was already reminded today; a unit gets at most one reminder by hand a day.",
    ),
    (
        "Đơn vị chưa có địa chỉ thư điện tử của người báo cáo; đề nghị bổ sung thông tin liên hệ của đơn vị.",
        "The unit has no reporter email address; please add it to the unit's contacts.",
    ),
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
