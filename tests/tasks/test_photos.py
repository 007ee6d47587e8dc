"""A photo from a phone's camera as a milestone's evidence: checked, turned upright, scaled to at most 2560 px
on its long side and stored without its EXIF (which holds where it was taken)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tracker.attachments.services import MAX_IMAGE_SIDE, prepare_image
from tracker.errors import DomainError


def _camera_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the phone was held upright (rotate 90° to show)
    exif[0x8825] = {1: "N", 2: (30.0, 15.0, 0.0)}  # GPSInfo: where the photo was taken
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def test_a_camera_photo_is_turned_upright_scaled_and_stripped() -> None:
    original = _camera_jpeg()
    stored = prepare_image("现场照片.jpg", original, "image/jpeg")
    with Image.open(io.BytesIO(stored)) as image:
        assert max(image.size) == MAX_IMAGE_SIDE
        assert image.size[1] > image.size[0]  # upright: taller than wide, as the phone was held
        assert not image.getexif()  # no orientation, no GPS left
    assert len(stored) < len(original)


def test_a_small_png_is_kept_as_it_is_and_a_broken_image_is_refused() -> None:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 90, 200)).save(out, "PNG")
    assert prepare_image("截图.png", out.getvalue(), "image/png") == out.getvalue()
    with pytest.raises(DomainError, match="已损坏或不是有效的图片"):
        prepare_image("坏图.jpg", b"\xff\xd8\xff" + b"not a jpeg" * 100, "image/jpeg")
    assert prepare_image("说明.pdf", b"%PDF-1.4", "application/pdf") == b"%PDF-1.4"
