#include "dicom/PiecesInputStream.h"

#include <algorithm>
#include <cstring>

namespace annot {
namespace {
class PiecesStreamFactory : public DcmInputStreamFactory {
 public:
  PiecesStreamFactory(std::shared_ptr<const Pieces> pieces, offile_off_t start)
      : pieces_(std::move(pieces)), start_(start) {}
  DcmInputStream* create() const override { return new PiecesInputStream(pieces_, start_); }
  DcmInputStreamFactory* clone() const override { return new PiecesStreamFactory(*this); }
  // DCMTK asks only to tell file-backed values apart from temporary ones; these are neither,
  // and nothing writes the parsed object back.
  DcmInputStreamFactoryType ident() const override { return DFT_DcmInputTempFileStreamFactory; }

 private:
  std::shared_ptr<const Pieces> pieces_;
  offile_off_t start_;
};
}  // namespace

PiecesProducer::PiecesProducer(std::shared_ptr<const Pieces> pieces, offile_off_t start)
    : pieces_(std::move(pieces)) {
  for (const auto& p : *pieces_) total_ += static_cast<offile_off_t>(p.size());
  seek(std::min(start, total_));
}

void PiecesProducer::seek(offile_off_t position) {
  // Forward from the current piece when possible; back from the start otherwise (putback).
  if (position < pieceStart_) {
    piece_ = 0;
    pieceStart_ = 0;
  }
  while (piece_ < pieces_->size() && position >= pieceStart_ + static_cast<offile_off_t>((*pieces_)[piece_].size())) {
    pieceStart_ += static_cast<offile_off_t>((*pieces_)[piece_].size());
    ++piece_;
  }
  position_ = position;
}

offile_off_t PiecesProducer::read(void* buf, offile_off_t buflen) {
  char* out = static_cast<char*>(buf);
  offile_off_t done = 0;
  while (done < buflen && position_ < total_) {
    const std::string_view& piece = (*pieces_)[piece_];
    const offile_off_t inPiece = position_ - pieceStart_;
    const offile_off_t n = std::min(buflen - done, static_cast<offile_off_t>(piece.size()) - inPiece);
    std::memcpy(out + done, piece.data() + inPiece, static_cast<size_t>(n));
    done += n;
    seek(position_ + n);
  }
  return done;
}

offile_off_t PiecesProducer::skip(offile_off_t skiplen) {
  const offile_off_t n = std::min(skiplen, total_ - position_);
  seek(position_ + n);
  return n;
}

void PiecesProducer::putback(offile_off_t num) { seek(position_ - std::min(num, position_)); }

PiecesInputStream::PiecesInputStream(const Pieces& pieces)
    : PiecesInputStream(std::make_shared<const Pieces>(pieces), 0) {}

namespace {
// One piece over `bytes`, the pointer sharing ownership of the string (aliasing constructor).
std::shared_ptr<const Pieces> piecesOwning(std::shared_ptr<const std::string> bytes) {
  auto holder = std::make_shared<std::pair<std::shared_ptr<const std::string>, Pieces>>();
  holder->second.emplace_back(*bytes);
  holder->first = std::move(bytes);
  return std::shared_ptr<const Pieces>(holder, &holder->second);
}
}  // namespace

PiecesInputStream::PiecesInputStream(std::shared_ptr<const std::string> bytes)
    : PiecesInputStream(piecesOwning(std::move(bytes)), 0) {}

// The base keeps only the producer's address here, as DCMTK's own file stream does.
PiecesInputStream::PiecesInputStream(std::shared_ptr<const Pieces> pieces, offile_off_t start)
    : DcmInputStream(&producer_), pieces_(pieces), start_(start), producer_(std::move(pieces), start) {}

DcmInputStreamFactory* PiecesInputStream::newFactory() const { return new PiecesStreamFactory(pieces_, start_ + tell()); }

OFCondition readWholeObject(DcmFileFormat& file, PiecesInputStream& in, Uint32 maxReadLength) {
  file.transferInit();
  OFCondition status = in.eos() ? EC_EndOfStream : file.read(in, EXS_Unknown, EGL_noChange, maxReadLength);
  file.transferEnd();
  return status == EC_StreamNotifyClient ? EC_EndOfStream : status;
}

}  // namespace annot
