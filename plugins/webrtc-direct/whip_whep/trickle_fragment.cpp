#include "whip_whep/trickle_fragment.hpp"

#include <gst/sdp/sdp.h>

namespace webrtcdirect {

bool TrickleFragment::set_offer(const std::string &sdp, std::string &error)
{
    GstSDPMessage *msg = nullptr;
    gst_sdp_message_new_from_text(sdp.c_str(), &msg);
    if (!msg) {
        error = "our offer is not SDP";
        return false;
    }
    mlines_.clear();
    const char *session_ufrag = gst_sdp_message_get_attribute_val(msg, "ice-ufrag");
    const char *session_pwd = gst_sdp_message_get_attribute_val(msg, "ice-pwd");
    for (guint i = 0; i < gst_sdp_message_medias_len(msg); ++i) {
        const GstSDPMedia *media = gst_sdp_message_get_media(msg, i);
        MLine l;
        l.m = std::string(gst_sdp_media_get_media(media)) + " 9 " + gst_sdp_media_get_proto(media);
        for (guint f = 0; f < gst_sdp_media_formats_len(media); ++f)
            l.m += std::string(" ") + gst_sdp_media_get_format(media, f);
        const char *mid = gst_sdp_media_get_attribute_val(media, "mid");
        const char *ufrag = gst_sdp_media_get_attribute_val(media, "ice-ufrag");
        const char *pwd = gst_sdp_media_get_attribute_val(media, "ice-pwd");
        l.mid = mid ? mid : "";
        l.ufrag = ufrag ? ufrag : session_ufrag ? session_ufrag : "";
        l.pwd = pwd ? pwd : session_pwd ? session_pwd : "";
        if (l.ufrag.empty() || l.pwd.empty())
            error = "m-line " + std::to_string(i) + " of our offer has no a=ice-ufrag / a=ice-pwd";
        mlines_.push_back(std::move(l));
    }
    gst_sdp_message_free(msg);
    return error.empty();
}

std::string TrickleFragment::build(const std::vector<std::pair<guint, std::string>> &candidates) const
{
    std::string out;
    for (guint i = 0; i < mlines_.size(); ++i) {
        std::string lines;
        for (const auto &[mline, candidate] : candidates)
            if (mline == i)
                lines += "a=" + candidate + "\r\n";
        if (lines.empty())
            continue;
        const MLine &l = mlines_[i];
        out += "m=" + l.m + "\r\n" + (l.mid.empty() ? "" : "a=mid:" + l.mid + "\r\n") + "a=ice-ufrag:" + l.ufrag +
               "\r\na=ice-pwd:" + l.pwd + "\r\n" + lines;
    }
    return out;
}

bool parse_trickle_fragment(const std::string &fragment, const std::vector<std::string> &mids, RemoteCandidates &out,
                            std::string &error)
{
    guint mline = 0;
    size_t start = 0;
    while (start < fragment.size()) {
        size_t end = fragment.find('\n', start);
        if (end == std::string::npos)
            end = fragment.size();
        std::string line = fragment.substr(start, end - start);
        start = end + 1;
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
            line.pop_back();
        if (line.rfind("a=mid:", 0) == 0) {
            const std::string mid = line.substr(6);
            guint i = 0;
            while (i < mids.size() && mids[i] != mid)
                ++i;
            if (i == mids.size()) {
                error = "a=mid:" + mid.substr(0, 32) + " is not in the offer";
                return false;
            }
            mline = i;
        } else if (line.rfind("a=candidate:", 0) == 0) {
            out.candidates.emplace_back(mline, line.substr(2));
        } else if (line == "a=end-of-candidates") {
            out.end = true;
        }
    }
    return true;
}

} // namespace webrtcdirect
